// The one error the selector parser throws. It is a validation error (the
// input is wrong; retrying never helps) that also says where: callers that
// validate resources wrap it with the field path, and an editor can point at
// the offending character.
import { CalicoError } from '../base/errors.js';

export class SelectorParseError extends CalicoError {
  /** 0-based index into `selector` (UTF-16 code units) where the problem starts. */
  readonly position: number;
  /** The selector text exactly as given. */
  readonly selector: string;
  /** The message without the selector text, e.g. `unexpected ")" at position 12; expected a label name`. */
  readonly reason: string;

  constructor(reason: string, opts: { position: number; selector: string }) {
    super('validation', `invalid selector ${JSON.stringify(opts.selector)}: ${reason}`, { retryable: false });
    this.name = 'SelectorParseError';
    this.position = opts.position;
    this.selector = opts.selector;
    this.reason = reason;
  }
}
