// The subset of Calico's selector syntax BGPPeer nodeSelector / peerSelector
// use in practice: all(), k == 'v', k != 'v', has(k), !has(k),
// k in {'a','b'}, k not in {...}, joined by &&. It stands in until the
// project's full selector engine (src/selector/) can be injected through
// `SelectorMatcher`; callers with the real one pass it instead.
// TODO(#5): default to src/selector once it lands.

export type SelectorMatcher = (selector: string, labels: Record<string, string>) => boolean;

const TERM =
  /^\s*(?:(all\(\))|(!?)has\(\s*([\w./-]+)\s*\)|([\w./-]+)\s*(==|!=)\s*['"]([^'"]*)['"]|([\w./-]+)\s+(not\s+in|in)\s*\{([^}]*)\})\s*$/;

/** Throws on syntax it does not understand, so a bad selector never silently matches everything. */
export const matchNodeSelector: SelectorMatcher = (selector, labels) => {
  const text = selector.trim();
  if (text === '') return true;
  return text.split('&&').every((part) => {
    const m = TERM.exec(part);
    if (!m) throw new Error(`unsupported selector term '${part.trim()}'`);
    if (m[1]) return true;
    if (m[3] !== undefined) return (m[2] === '!') !== Object.hasOwn(labels, m[3]);
    if (m[4] !== undefined) {
      const equal = labels[m[4]] === m[6];
      return m[5] === '==' ? equal : !equal;
    }
    const values = m[9]!
      .split(',')
      .map((v) => v.trim().replace(/^['"]|['"]$/g, ''))
      .filter((v) => v !== '');
    const value = labels[m[7]!];
    const inSet = value !== undefined && values.includes(value);
    return m[8] === 'in' ? inSet : !inSet;
  });
};
