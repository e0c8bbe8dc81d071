import { CalicoError } from '../base/errors.js';

/** The DHCP service could not be brought to the wanted state (dnsmasq refused its file or died, an ip command failed). Retrying can help. */
export class DhcpError extends CalicoError {
  constructor(message: string, opts: { cause?: unknown } = {}) {
    super('unavailable', message, { ...opts, retryable: true });
    this.name = 'DhcpError';
  }
}
