import { CalicoError } from '../base/errors.js';

/** A kernel tool rejected or failed an operation. `object` names what we were writing. */
export class DataplaneError extends CalicoError {
  readonly object: string;
  constructor(object: string, message: string, opts: { cause?: unknown; retryable?: boolean } = {}) {
    super('unavailable', `${object}: ${message}`, { retryable: opts.retryable ?? true, cause: opts.cause });
    this.name = 'DataplaneError';
    this.object = object;
  }
}

/** The apply loop stopped because continuing could leave traffic open. */
export class DataplaneFatalError extends CalicoError {
  constructor(message: string, cause?: unknown) {
    super('internal', message, { retryable: false, cause });
    this.name = 'DataplaneFatalError';
  }
}
