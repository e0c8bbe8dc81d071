// `iptables-save` / `ipset save` text -> restore input that removes every
// object of ours and nothing else: the hook rules tagged HOOK_COMMENT in the
// built-in chains, the cali-* chains, the cali40*/cali60* sets. Used when the
// agent runs the nftables backend and finds the iptables backend's objects
// (a backend switch). Pure.

import { HOOK_COMMENT, isOurChain, isOurSet } from '../../rules/names.js';

/** Restore input for `iptables-restore --noflush` of one family; '' when nothing of ours is there. */
export function renderIptablesRemoval(saveText: string): string {
  const out: string[] = [];
  let table = '';
  let chains: string[] = [];
  let hooks: string[] = [];
  const close = () => {
    if (table && (chains.length || hooks.length)) {
      // Hooks first (they jump to our chains), then flush every chain of ours
      // (declaring it flushes it under --noflush) so no rule of ours refers to
      // another, then delete them; one COMMIT per table, so it is atomic.
      out.push(`*${table}`, ...chains.map((c) => `:${c} - [0:0]`), ...hooks, ...chains.map((c) => `-X ${c}`), 'COMMIT');
    }
    chains = [];
    hooks = [];
  };
  for (const raw of saveText.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('*')) {
      close();
      table = line.slice(1);
    } else if (line === 'COMMIT') {
      close();
      table = '';
    } else if (line.startsWith(':')) {
      const name = line.slice(1).split(' ')[0]!;
      if (isOurChain(name)) chains.push(name);
    } else if (line.startsWith('-A ')) {
      const chain = line.split(' ')[1]!;
      const tagged = line.includes(`--comment "${HOOK_COMMENT}"`) || line.includes(`--comment ${HOOK_COMMENT} `) || line.endsWith(`--comment ${HOOK_COMMENT}`);
      if (!isOurChain(chain) && tagged) hooks.push(`-D ${line.slice(3)}`);
    }
  }
  close();
  return out.length ? out.join('\n') + '\n' : '';
}

/** `ipset restore` input destroying our sets (run after the rules using them are gone); '' when there are none. */
export function renderIpsetRemoval(saveText: string): string {
  const names: string[] = [];
  for (const line of saveText.split('\n')) {
    const parts = line.trim().split(' ');
    if (parts[0] === 'create' && isOurSet(parts[1] ?? '')) names.push(parts[1]!);
  }
  return names.length ? names.map((n) => `destroy ${n}`).join('\n') + '\n' : '';
}
