// Which interfaces count as workload interfaces (FelixConfiguration
// interfacePrefix, comma-separated) and, fail closed, a workload endpoint
// whose interface has none of the prefixes: its traffic must still be sent
// to dispatch (policy, anti-spoofing) and the reverse-path check, never left
// to the base chains' accept.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileRuleset } from '../rules/compile-endpoints.js';
import type { DataplaneModel } from '../rules/model.js';
import { goldenCases } from './golden-cases.js';
import { renderIptablesFull } from './iptables/render.js';
import { renderNftFull } from './nft/render.js';

function model(prefixes: string[] | undefined, secondIface: string): DataplaneModel {
  const m = structuredClone(goldenCases().find((c) => c.name === 'basic')!.model);
  if (prefixes) m.config.workloadInterfacePrefixes = prefixes;
  else delete m.config.workloadInterfacePrefixes;
  m.endpoints.find((e) => e.interfaceName === 'cali9f8e7d6c5b4')!.interfaceName = secondIface;
  return m;
}

const has = (text: string, line: string) => assert.ok(text.split('\n').some((l) => l.trim() === line), `missing: ${line}`);
const hasNot = (text: string, re: RegExp) => assert.deepEqual(text.split('\n').filter((l) => re.test(l)), []);

test('interfacePrefix: every configured prefix is dispatched, checked for reverse path and sent to wl-to-host (both backends)', () => {
  const rs = compileRuleset(model(['cali', 'tap'], 'tap1234'));
  const v4 = renderIptablesFull(rs, 4);
  for (const p of ['cali+', 'tap+']) {
    has(v4, `-A cali-FORWARD -i ${p} -j cali-from-wl-dispatch`);
    has(v4, `-A cali-FORWARD -o ${p} -j cali-to-wl-dispatch`);
    has(v4, `-A cali-INPUT -i ${p} -g cali-wl-to-host`);
    has(v4, `-A cali-PREROUTING -i ${p} -m rpfilter --invert -m comment --comment "reverse path" -j DROP`);
  }
  has(v4, '-A cali-from-wl-dispatch -i tap1234 -g cali-fw-tap1234');
  hasNot(v4, /-[io] tap1234 -j /); // covered by tap+, no exact-name rule
  const nft = renderNftFull(rs);
  for (const p of ['cali*', 'tap*']) {
    has(nft, `iifname "${p}" jump cali-from-wl-dispatch`);
    has(nft, `oifname "${p}" jump cali-to-wl-dispatch`);
    has(nft, `iifname "${p}" goto cali-wl-to-host`);
    has(nft, `iifname "${p}" fib saddr . iif oif missing drop comment "reverse path"`);
  }
});

test('interfacePrefix: a workload interface outside every prefix is still policed (exact-name match), not left open', () => {
  const rs = compileRuleset(model(undefined, 'tap0'));
  const v4 = renderIptablesFull(rs, 4);
  has(v4, '-A cali-FORWARD -i tap0 -j cali-from-wl-dispatch');
  has(v4, '-A cali-FORWARD -o tap0 -j cali-to-wl-dispatch');
  has(v4, '-A cali-INPUT -i tap0 -g cali-wl-to-host');
  has(v4, '-A cali-PREROUTING -i tap0 -m rpfilter --invert -m comment --comment "reverse path" -j DROP');
  has(v4, '-A cali-fw-tap0 ! -s 198.18.1.3 -m comment --comment "anti-spoof IP" -j DROP');
  // The jump to dispatch comes before the blanket accept for that interface.
  const lines = v4.split('\n');
  assert.ok(lines.indexOf('-A cali-FORWARD -i tap0 -j cali-from-wl-dispatch') < lines.indexOf('-A cali-FORWARD -i tap0 -j ACCEPT'));
  const nft = renderNftFull(rs);
  has(nft, 'iifname "tap0" jump cali-from-wl-dispatch');
  has(nft, 'oifname "tap0" jump cali-to-wl-dispatch');
  has(nft, 'iifname "tap0" goto cali-wl-to-host');
  has(nft, 'iifname "tap0" fib saddr . iif oif missing drop comment "reverse path"');
  // The default prefix is still there.
  has(nft, 'iifname "cali*" jump cali-from-wl-dispatch');
});

test('interfacePrefix: no usable prefix falls back to "cali"; default output is unchanged', () => {
  const plain = renderNftFull(compileRuleset(model(undefined, 'cali9f8e7d6c5b4')));
  assert.equal(renderNftFull(compileRuleset(model(['', ' ', 'bad*'], 'cali9f8e7d6c5b4'))), plain);
  assert.equal(renderNftFull(compileRuleset(model(['cali'], 'cali9f8e7d6c5b4'))), plain);
});
