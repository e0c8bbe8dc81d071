// IPAM's typed errors. Code branches on `reason` (and the inherited `kind`), never on text.
import { CalicoError, type ErrorKind } from '../base/errors.js';

export type IpamErrorReason =
  | 'pool-not-found' // asked for a pool (CIDR) that is not configured
  | 'pool-disabled' // asked for a pool that is disabled
  | 'pool-exhausted' // no free address left that this host may use
  | 'pool-not-allowed' // pool does not allow this use or does not select this node
  | 'address-not-in-pool' // address outside every pool
  | 'address-not-allocated' // releasing an address that is free
  | 'address-in-use' // assigning an address that is taken
  | 'address-reserved' // assigning an address an IPReservation holds back
  | 'address-owned-by-other' // releasing with a handle that does not own the address
  | 'address-reallocated' // sequence number changed: someone re-allocated it in between
  | 'too-many-retries'; // CAS kept losing; the store is too contended or flapping

const KIND: Record<IpamErrorReason, ErrorKind> = {
  'pool-not-found': 'not-found',
  'pool-disabled': 'invalid-argument',
  // "exhausted" is not a datastore failure, and retrying the same request cannot help.
  'pool-exhausted': 'unavailable',
  'pool-not-allowed': 'invalid-argument',
  'address-not-in-pool': 'not-found',
  'address-not-allocated': 'not-found',
  'address-in-use': 'already-exists',
  'address-reserved': 'invalid-argument',
  'address-owned-by-other': 'invalid-argument',
  'address-reallocated': 'conflict',
  'too-many-retries': 'unavailable',
};

export class IpamError extends CalicoError {
  readonly reason: IpamErrorReason;
  constructor(reason: IpamErrorReason, message: string, opts: { cause?: unknown } = {}) {
    super(KIND[reason], message, { cause: opts.cause, retryable: reason === 'too-many-retries' });
    this.name = 'IpamError';
    this.reason = reason;
  }
}

export function isIpamError(err: unknown, reason?: IpamErrorReason): err is IpamError {
  return err instanceof IpamError && (reason === undefined || err.reason === reason);
}
