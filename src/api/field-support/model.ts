// The field-support table's vocabulary. Every field of every kind the API
// accepts says what calico-ts does with it, in one of three ways:
//   honoured: the field takes effect; `test` names the test that shows it.
//   refused:  validation rejects values other than `allowed` (e.g. an
//             encapsulation or feature we do not have), with `message`.
//   warned:   accepted, no security meaning, not acted on; a write or an
//             agent that sees it set logs `reason` (quiet for `quietWhen`,
//             the values that describe what we do anyway).
// No security-relevant field may be `warned`: a Deny or an encryption the
// user asked for either happens or the write is refused.

/** `path/to/file.test.ts :: words of the test's name` */
export type TestRef = `${string}.test.ts :: ${string}`;

export type FieldSupport =
  | { status: 'honoured'; test: TestRef; note?: string }
  | { status: 'refused'; allowed: readonly unknown[]; message: string; example: unknown }
  | { status: 'warned'; reason: string; quietWhen?: readonly unknown[] };

/** Section (a kind or a shared type such as Rule) -> field path -> support. */
export type FieldTable = Record<string, FieldSupport>;

export const honoured = (test: TestRef, note?: string): FieldSupport => ({ status: 'honoured', test, ...(note ? { note } : {}) });

/** Refused unless the value is one of `allowed`; `example` is a value that is refused (the table's test writes it). */
export const refused = (message: string, opts: { allowed?: readonly unknown[]; example: unknown }): FieldSupport => ({
  status: 'refused',
  allowed: opts.allowed ?? [],
  message,
  example: opts.example,
});

export const warned = (reason: string, quietWhen?: readonly unknown[]): FieldSupport => ({
  status: 'warned',
  reason,
  ...(quietWhen ? { quietWhen } : {}),
});
