// `iptables-save` / `ipset save` text -> kernel views of OUR objects. Pure.

import { CHAIN_HASH_PREFIX, HOOK_COMMENT, isOurChain, isOurSet } from '../../rules/names.js';
import type { IpsetKernelView, IptablesKernelView } from './render.js';

export function parseIptablesSave(text: string): IptablesKernelView {
  const view: IptablesKernelView = { chains: new Map(), hooks: new Set() };
  let table = '';
  const seenFirstRule = new Set<string>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('*')) table = line.slice(1);
    else if (line.startsWith(':')) {
      const name = line.slice(1).split(' ')[0]!;
      if (isOurChain(name)) view.chains.set(`${table}/${name}`, '');
    } else if (line.startsWith('-A ')) {
      const chain = line.split(' ')[1]!;
      const key = `${table}/${chain}`;
      if (isOurChain(chain)) {
        // Only the FIRST rule may be the marker.
        if (!seenFirstRule.has(key)) {
          seenFirstRule.add(key);
          const m = new RegExp(`^-A \\S+ -m comment --comment "?${CHAIN_HASH_PREFIX}([^" ]*)"?$`).exec(line);
          if (m) view.chains.set(key, m[1]!);
        }
      } else if (line.includes(`--comment "${HOOK_COMMENT}"`) || line.includes(`--comment ${HOOK_COMMENT} `)) {
        view.hooks.add(key);
      }
    }
  }
  return view;
}

export function parseIpsetSave(text: string): IpsetKernelView {
  const view: IpsetKernelView = new Map();
  for (const line of text.split('\n')) {
    const parts = line.trim().split(' ');
    if (parts[0] === 'create' && isOurSet(parts[1] ?? '')) view.set(parts[1]!, []);
    else if (parts[0] === 'add' && view.has(parts[1]!)) view.get(parts[1]!)!.push(parts[2]!);
  }
  return view;
}
