// `nft list table inet calico` text -> NftKernelView. Pure. Reads only what
// reconcile needs: chain names with their hash markers, set names with their
// elements (as nft prints them, with single spaces around the concatenation dots).
// A set under its other name (`<name>.b`, see delta.ts) is recorded under its
// IR name, with the kernel name beside it.

import { CHAIN_HASH_PREFIX } from '../../rules/names.js';
import { emptyNftView, irSetName, type NftKernelView } from './delta.js';

export function parseNftTable(text: string): NftKernelView {
  const view: NftKernelView = { ...emptyNftView(), tableExists: text.trim() !== '' };
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    let m = /^chain (\S+) \{$/.exec(line);
    if (m) {
      const name = m[1]!;
      let hash = '';
      for (let j = i + 1; j < lines.length; j++) {
        const l = lines[j]!.trim();
        if (l === '}') break;
        const h = new RegExp(`^continue comment "${CHAIN_HASH_PREFIX}([^"]*)"$`).exec(l);
        if (h) {
          hash = h[1]!;
          break;
        }
        // The marker is always the first rule; anything else first means it is missing.
        if (!l.startsWith('type ') && !l.startsWith('comment ') && !l.startsWith('policy ')) break;
      }
      view.chains.set(name, hash);
      continue;
    }
    m = /^(set|map) (\S+) \{$/.exec(line);
    if (m) {
      const isMap = m[1] === 'map';
      const name = m[2]!;
      let elems = '';
      let j = i + 1;
      for (; j < lines.length; j++) {
        const l = lines[j]!.trim();
        if (l === '}') break;
        if (l.startsWith('elements = {')) {
          elems = l.slice('elements = {'.length);
          while (!elems.trimEnd().endsWith('}') && j + 1 < lines.length) elems += ' ' + lines[++j]!.trim();
          elems = elems.trimEnd().slice(0, -1);
        }
      }
      const items = elems
        .split(',')
        .map((e) => e.trim())
        .filter(Boolean);
      if (isMap) {
        // "caliX" : goto cali-fw-caliX  ->  caliX:cali-fw-caliX
        view.maps.set(name, items.map((e) => e.replace(/^"([^"]*)" : goto (\S+)$/, '$1:$2')));
      } else {
        const irName = irSetName(name);
        // Both names at once cannot come from our transactions; the one read last wins, and the other is left alone.
        view.sets.set(irName, items.map((e) => e.split(' . ').map((p) => p.trim()).join(' . ')));
        if (irName !== name) view.setNames.set(irName, name);
        else view.setNames.delete(irName);
      }
      i = j;
    }
  }
  return view;
}
