// calicoctl explain --trace without a kernel: a scripted Exec plays `nft
// monitor` lines in nft 1.0.6's trace format, built from the rules the
// compiler really renders for the node (so the comments the trace maps are
// the real ones). test/kernel/trace/ checks the real thing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Resource } from '../api/resource.js';
import { nodeState } from '../calc/explain.js';
import { main } from '../cli/calicoctl.js';
import { CommandRegistry } from '../cli/command.js';
import { FakeIO } from '../cli/fake-io.js';
import { EXIT_MISMATCH, explainCommand } from '../cli/commands/explain.js';
import { modelFromCalc } from '../dataplane/model-from-calc.js';
import type { Exec, ExecResult } from '../dataplane/ports.js';
import { renderNftChainRules } from '../render/nft/render.js';
import { compileRuleset } from '../rules/compile-endpoints.js';
import { defaultDataplaneConfig } from '../rules/model.js';
import { chainNames } from '../rules/names.js';
import { parseTraceLine } from './trace-parse.js';
import { traceComplete, traceTableScript, type TraceTimer } from './trace-run.js';

const r = (kind: Resource['kind'], name: string, spec: Record<string, unknown>, extra: { namespace?: string; labels?: Record<string, string> } = {}): Resource => ({
  apiVersion: 'projectcalico.org/v3',
  kind,
  metadata: { name, ...(extra.namespace ? { namespace: extra.namespace } : {}), ...(extra.labels ? { labels: extra.labels } : {}) },
  spec,
});
const wep = (pod: string, node: string, ip: string, iface: string) =>
  r('WorkloadEndpoint', `${node}-k8s-${pod}-eth0`, { orchestrator: 'k8s', node, pod, endpoint: 'eth0', interfaceName: iface, ipNetworks: [`${ip}/32`], profiles: ['kns.default'] }, { namespace: 'default', labels: { app: pod, 'projectcalico.org/namespace': 'default' } });
const gnp = (name: string, spec: Record<string, unknown>) => r('GlobalNetworkPolicy', name, { selector: "app == 'server'", types: ['Ingress'], ...spec });
const tcpAllow = (port: number) => ({ action: 'Allow', protocol: 'TCP', destination: { ports: [port] } });

/**
 * client (node-a) -> server (node-b). Tier security: security.web [0] Deny TCP 23, [1] Pass.
 * Tier default: web-a [0] Allow TCP 80 and web-b [0] Allow TCP 8080: one run, one set lookup spanning both policies.
 */
function world(extra: Resource[] = []): Resource[] {
  return [
    r('Profile', 'kns.default', { ingress: [{ action: 'Allow' }], egress: [{ action: 'Allow' }] }),
    r('Tier', 'security', { order: 100 }),
    gnp('security.web', { tier: 'security', ingress: [{ action: 'Deny', protocol: 'TCP', destination: { ports: [23] } }, { action: 'Pass' }] }),
    gnp('web-a', { order: 1, ingress: [tcpAllow(80)] }),
    gnp('web-b', { order: 2, ingress: [tcpAllow(8080)] }),
    wep('client', 'node-a', '198.18.0.2', 'caliclient00000'),
    wep('server', 'node-b', '198.18.1.3', 'caliserver00000'),
    ...extra,
  ];
}

/** The node's rendered nft rules, per chain: the text nft trace prints for a matched rule. */
function renderedChains(resources: Resource[], node: string, config = defaultDataplaneConfig()): Map<string, string[]> {
  const rs = compileRuleset(modelFromCalc(nodeState(node, resources), config));
  return new Map(rs.chains.map((c) => [c.name, renderNftChainRules(c).slice(1)]));
}

/** The verdict nft trace reports for a matched rule: its action, or continue. */
const verdictOf = (rule: string) => {
  const bare = rule.replace(/ comment "[^"]*"$/, '');
  const m = /(?:^| )(goto|jump) (\S+)$/.exec(bare);
  if (m) return `${m[1]} ${m[2]}`;
  return /(?:^| )(drop|accept|return)$/.exec(bare)?.[1] ?? 'continue';
};

/** nft monitor lines for a packet walking `steps`: [chain, predicate on the rendered rule]. */
function traceLines(chains: Map<string, string[]>, steps: [string, (rule: string) => boolean][]): string[] {
  const line = (chain: string, rest: string, table = 'calico') => `trace id 5eed0001 inet ${table} ${chain} ${rest}`;
  const out = [
    line('prerouting', 'packet: iif "eth0" ip saddr 198.18.0.2 ip daddr 198.18.1.3 ip protocol tcp tcp sport 51234 tcp dport 80', 'calico-trace'),
    line('prerouting', 'rule ip saddr 198.18.0.2 ip daddr 198.18.1.3 meta l4proto 6 th dport 80 meta nftrace set 1 (verdict continue)', 'calico-trace'),
    line('base-forward', 'rule continue comment "cali:h=iJbEzphDowIv3Izh" (verdict continue)'),
    line('base-forward', 'rule jump cali-FORWARD (verdict jump cali-FORWARD)'),
  ];
  for (const [chain, pick] of steps) {
    const rule = chains.get(chain)?.find(pick);
    if (!rule) throw new Error(`test setup: no rule in ${chain} matches ${pick}: ${JSON.stringify(chains.get(chain))}`);
    out.push(line(chain, `rule ${rule.replace(/vmap \{.*\}/, 'vmap @map')} (verdict ${rule.includes('vmap') ? `goto ${TW}` : verdictOf(rule)})`));
  }
  return out;
}

const TW = chainNames.toWorkload('caliserver00000');
const SEC = chainNames.tier('security', ['gnp/security.web'], 'inbound');
const DEF = chainNames.tier('default', ['gnp/web-a', 'gnp/web-b'], 'inbound');
const has = (text: string) => (rule: string) => rule.includes(text);

function toServer(chains: Map<string, string[]>, decide: [string, (rule: string) => boolean][]): string[] {
  return traceLines(chains, [
    ['cali-FORWARD', has('jump cali-to-wl-dispatch')],
    ['cali-to-wl-dispatch', has('vmap')],
    [TW, (l) => l.startsWith('meta mark set') && !l.includes('comment')],
    [TW, has('comment "tier security"')],
    [TW, has(`jump ${SEC}`)],
    ...decide,
  ]);
}

const passThenDefault = (chains: Map<string, string[]>, last: [string, (rule: string) => boolean][]) =>
  toServer(chains, [[SEC, has('comment "gnp/security.web[1]"')], ['cali-pass', has('meta mark set')], [TW, has('comment "tier default"')], [TW, has(`jump ${DEF}`)], ...last]);

/** Plays `lines` on the monitor once the trace table is added; records every command. */
class ScriptedNft implements Exec {
  readonly commands: string[] = [];
  private handlers: { onLine(l: string): void; onExit(code: number, stderr: string): void } | undefined;
  constructor(
    private readonly lines: string[],
    private readonly opts: { missedAdds?: number; tables?: string; monitorDies?: boolean; onAdd?: () => void } = {},
  ) {}
  async run(argv: string[]): Promise<ExecResult> {
    const cmd = argv.join(' ');
    this.commands.push(cmd);
    if (cmd === 'nft list tables') return { code: 0, stdout: this.opts.tables ?? 'table inet calico\ntable ip filter\n', stderr: '' };
    if (cmd === 'nft -f -') {
      if ((this.opts.missedAdds ?? 0) > 0) {
        this.opts.missedAdds!--;
        return { code: 0, stdout: '', stderr: '' };
      }
      setImmediate(() => {
        if (this.opts.monitorDies) return this.handlers?.onExit(1, 'Operation not permitted');
        this.handlers?.onLine('add table inet calico-trace');
        this.opts.onAdd?.();
        // Another packet's trace id is ignored; ours follows.
        this.handlers?.onLine('trace id 0ther000 inet calico base-input rule jump cali-INPUT (verdict jump cali-INPUT)');
        for (const l of this.lines) this.handlers?.onLine(l);
      });
    }
    return { code: 0, stdout: '', stderr: '' };
  }
  stream(argv: string[], handlers: { onLine(line: string): void; onExit(code: number, stderr: string): void }) {
    this.commands.push(argv.join(' '));
    this.handlers = handlers;
    return { stop: () => void (this.handlers = undefined) };
  }
}

const soonTimeout: TraceTimer = { after: (_ms, fn) => (setTimeout(fn, 5), () => undefined) };

async function run(argv: string, nft: ScriptedNft, resources = world(), abort?: AbortSignal) {
  const io = new FakeIO({ env: { NODENAME: 'node-b' } });
  for (const res of resources) await io.datastore.create(res);
  const registry = new CommandRegistry().register(explainCommand({ exec: () => nft, timer: soonTimeout, ...(abort ? { abort } : {}) }));
  const code = await main(argv.split(' '), io, { registry });
  return { code, out: io.out, err: io.errOut };
}

const FLOW = 'explain --from default/client --to default/server --trace';
const ORDER = ['nft list tables', 'nft monitor', 'nft -f -', 'nft delete table inet calico-trace'];

test('trace: allowed by a set lookup spanning web-a and web-b: the kernel names web-b rule 0, as computed: AGREE', async () => {
  const chains = renderedChains(world(), 'node-b');
  const merged = chains.get(DEF)!.find(has('goto cali-allow'))!;
  assert.match(merged, /@cali40m-\S+ goto cali-allow comment "run 0: gnp\/web-a\[0\] gnp\/web-b\[0\]"$/, 'one lookup for both policies, commented with both');
  const lines = passThenDefault(chains, [[DEF, (l) => l === merged], ['cali-allow', has('meta mark set')], [TW, has('== 0x00010000 return')], ['cali-FORWARD', (l) => l === 'oifname "cali*" accept']]);
  const nft = new ScriptedNft(lines);
  const { code, out, err } = await run(`${FLOW} --port 8080`, nft);
  assert.equal(code, 0, out + err);
  assert.match(out, /agree: ingress of default\/server: Allow by tier default, GlobalNetworkPolicy web-b, ingress\[0\] \(one merged kernel rule for run 0: 2 rules\)/);
  assert.match(out, /passed on: Pass by tier security, GlobalNetworkPolicy security\.web, ingress\[1\]/);
  assert.match(out, new RegExp(`${DEF} \\[tier default \\(ingress\\)\\]: .*goto cali-allow comment "run 0: gnp/web-a\\[0\\] gnp/web-b\\[0\\]" => goto cali-allow`));
  assert.match(out, /Trace: the computed answer and the kernel AGREE/);
  assert.doesNotMatch(out, /cali:h=/, 'chain hash markers are bookkeeping, not steps');
  assert.match(err, /Tracing on node node-b: send 198\.18\.0\.2 -> 198\.18\.1\.3:8080 \(protocol 6\) now/);
  assert.deepEqual(nft.commands, ORDER);
});

test('trace: denied by tier security, security.web rule 0, in the kernel and as computed (JSON)', async () => {
  const chains = renderedChains(world(), 'node-b');
  const lines = toServer(chains, [[SEC, has('comment "gnp/security.web[0]"')]]);
  const { code, out } = await run(`${FLOW} --port 23 -o json`, new ScriptedNft(lines));
  assert.equal(code, 3, 'denied, and the trace agrees');
  const j = JSON.parse(out);
  assert.equal(j.kernelTrace.agrees, true, JSON.stringify(j.kernelTrace.comparison));
  const stage = j.kernelTrace.trace.stages[0];
  assert.deepEqual([stage.direction, stage.endpoint, stage.decision.kind, stage.decision.action, stage.decision.where, stage.decision.matched], ['ingress', 'workload:default/node-b-k8s-server-eth0', 'rule', 'Deny', { tier: 'security' }, { owner: 'gnp/security.web', index: 0 }]);
});

test('trace: a kernel that decides otherwise is a loud MISMATCH with its own exit code', async () => {
  const chains = renderedChains(world(), 'node-b');
  // Computed: web-a allows TCP 80. This kernel ends the default tier instead (as if web-a were not programmed).
  const lines = passThenDefault(chains, [[TW, has('comment "end of tier default"')]]);
  const { code, out, err } = await run(`${FLOW} --port 80`, new ScriptedNft(lines));
  assert.equal(code, EXIT_MISMATCH);
  assert.match(out, /!!! MISMATCH: ingress of default\/server: computed "Allow by tier default, GlobalNetworkPolicy web-a, ingress\[0\]"; kernel "Deny at the end of tier default"/);
  assert.match(out, /!!! Trace: MISMATCH/);
  assert.match(err, /MISMATCH between the computed answer and the kernel trace/);
  // Nothing seen at all on the destination's node is a mismatch too (the computed answer has it arrive).
  const none = await run(`${FLOW} --port 80`, new ScriptedNft([]));
  assert.equal(none.code, EXIT_MISMATCH);
  assert.match(none.out, /MISMATCH: no packet was traced on node node-b/);
});

test('trace: a long run is named by number only; the tool resolves it from the calc state and re-evaluates which rule matched', async () => {
  const many = Array.from({ length: 30 }, (_, k) => gnp(`a-rather-long-policy-name-for-port-${9000 + k}`, { order: 10 + k, ingress: [tcpAllow(9000 + k)] }));
  const resources = world(many);
  const chains = renderedChains(resources, 'node-b');
  const ids = ['gnp/web-a', 'gnp/web-b', ...many.map((p) => `gnp/${p.metadata.name}`)];
  const def = chainNames.tier('default', ids, 'inbound');
  const merged = chains.get(def)!.find(has('goto cali-allow'))!;
  assert.match(merged, /comment "run 0 \(32 rules\)"$/);
  const lines = toServer(chains, [[SEC, has('comment "gnp/security.web[1]"')], [TW, has('comment "tier default"')], [def, (l) => l === merged], [TW, has('== 0x00010000 return')]]);
  const { code, out } = await run(`${FLOW} --port 9017`, new ScriptedNft(lines), resources);
  assert.equal(code, 0, out);
  assert.match(out, /agree: ingress of default\/server: Allow by tier default, GlobalNetworkPolicy a-rather-long-policy-name-for-port-9017, ingress\[0\] \(one merged kernel rule for run 0: 32 rules\)/);
});

test('trace: the iptables backend is not traced (no inet calico table): a clear error, nothing added', async () => {
  const nft = new ScriptedNft([], { tables: 'table ip filter\ntable ip raw\n' });
  const { code, err } = await run(`${FLOW} --port 80`, nft);
  assert.equal(code, 1);
  assert.match(err, /no table inet calico here: --trace follows packets through calico-node's nftables ruleset only; the iptables backend is not traced/);
  assert.deepEqual(nft.commands, ['nft list tables']);
});

test('trace: the trace table is removed when the monitor dies, and when the trace is interrupted', async () => {
  const dies = new ScriptedNft([], { monitorDies: true });
  const a = await run(`${FLOW} --port 80`, dies);
  assert.equal(a.code, 1);
  assert.match(a.err, /nft monitor exited \(1\) before the trace finished: Operation not permitted/);
  assert.equal(dies.commands[dies.commands.length - 1], 'nft delete table inet calico-trace');
  const ctl = new AbortController();
  const interrupted = new ScriptedNft([], { onAdd: () => ctl.abort() });
  const b = await run(`${FLOW} --port 80`, interrupted, world(), ctl.signal);
  assert.equal(b.code, 1);
  assert.match(b.err, /trace interrupted/);
  assert.deepEqual(interrupted.commands, ORDER);
});

test('trace: a monitor that subscribes late is waited for (the table is added again until it is reported)', async () => {
  const nft = new ScriptedNft(toServer(renderedChains(world(), 'node-b'), [[SEC, has('comment "gnp/security.web[0]"')]]), { missedAdds: 2 });
  const { code, out, err } = await run(`${FLOW} --port 23`, nft);
  assert.equal(code, 3, out + err);
  assert.deepEqual(nft.commands, ['nft list tables', 'nft monitor', 'nft -f -', 'nft -f -', 'nft -f -', 'nft delete table inet calico-trace']);
  assert.equal((err.match(/Tracing on node/g) ?? []).length, 1);
});

test('trace: a node that enforces neither end is refused with the nodes to use', async () => {
  const io = new FakeIO({ env: { NODENAME: 'node-z' } });
  for (const res of world()) await io.datastore.create(res);
  const nft = new ScriptedNft([]);
  const code = await main(`${FLOW} --port 80`.split(' '), io, { registry: new CommandRegistry().register(explainCommand({ exec: () => nft })) });
  assert.equal(code, 1);
  assert.match(io.errOut, /--trace: node 'node-z' enforces neither end of this packet; run it on node node-a or node-b/);
  assert.deepEqual(nft.commands, []);
});

test('the trace table: its own table, both hooks before raw, the flow only; replaces a stale one', () => {
  const script = traceTableScript({ family: 4, src: '198.18.0.2', dst: '198.18.1.3', protocol: 6, srcPort: 40000, dstPort: 80 });
  assert.match(script, /^table inet calico-trace\ndelete table inet calico-trace\ntable inet calico-trace \{/);
  assert.equal((script.match(/priority -350;/g) ?? []).length, 2);
  assert.equal((script.match(/ip saddr 198\.18\.0\.2 ip daddr 198\.18\.1\.3 meta l4proto 6 th dport 80 meta nftrace set 1/g) ?? []).length, 2);
  const v6 = traceTableScript({ family: 6, src: '2001:db8::2', dst: '2001:db8::3', protocol: 58, icmpType: 128, icmpCode: 0 });
  assert.match(v6, /ip6 saddr 2001:db8::2 ip6 daddr 2001:db8::3 meta l4proto 58 icmpv6 type 128 meta nftrace set 1/);
});

test('parseTraceLine reads rule, comment and verdict; traceComplete waits for a drop or the filter stage accept', () => {
  const ev = parseTraceLine(`trace id 5eed0001 inet calico ${SEC} rule meta l4proto tcp th dport 23 drop comment "gnp/security.web[0]" (verdict drop)`);
  assert.deepEqual(ev, { id: '5eed0001', family: 'inet', table: 'calico', chain: SEC, type: 'rule', text: 'meta l4proto tcp th dport 23 drop comment "gnp/security.web[0]"', comment: 'gnp/security.web[0]', verdict: 'drop' });
  assert.equal(parseTraceLine('trace id 5eed0001 inet calico base-input policy accept meta mark 0x00010000')?.verdict, 'accept');
  assert.equal(parseTraceLine('add table inet calico-trace'), undefined);
  const at = (chain: string, verdict: string) => parseTraceLine(`trace id 1 inet calico ${chain} rule x (verdict ${verdict})`)!;
  assert.equal(traceComplete([at('cali-PREROUTING', 'accept')]), false);
  assert.equal(traceComplete([at('base-forward', 'jump cali-FORWARD'), at('cali-FORWARD', 'accept')]), true);
  assert.equal(traceComplete([at('cali-PREROUTING', 'drop')]), true);
});

test('trace: the kernel matching another rule of the same run (same action) agrees, and says which', async () => {
  // Default tier run 0: web-a [0] Allow TCP 80 from the client's /24, web-b [0] Allow TCP 80 from anywhere:
  // different shapes, so two kernel rules; first-match names web-a, but a run's rules are one union.
  const resources = world().map((res) =>
    res.metadata.name === 'web-a' ? gnp('web-a', { order: 1, ingress: [{ ...tcpAllow(80), source: { nets: ['198.18.0.0/24'] } }] }) : res.metadata.name === 'web-b' ? gnp('web-b', { order: 2, ingress: [tcpAllow(80)] }) : res,
  );
  const chains = renderedChains(resources, 'node-b');
  const webB = chains.get(DEF)!.find(has('comment "gnp/web-b[0]"'))!;
  assert.ok(chains.get(DEF)!.indexOf(webB) > 0, 'web-b has a kernel rule of its own, after web-a');
  const lines = passThenDefault(chains, [[DEF, (l) => l === webB], ['cali-allow', has('meta mark set')], [TW, has('== 0x00010000 return')]]);
  const { code, out } = await run(`${FLOW} --port 80`, new ScriptedNft(lines), resources);
  assert.equal(code, 0, out);
  assert.match(out, /agree: ingress of default\/server: Allow by tier default, GlobalNetworkPolicy web-b, ingress\[0\]\n/);
  assert.match(out, /the kernel's lookup matched another rule of the same run, tier default, GlobalNetworkPolicy web-b, ingress\[0\]: same action/);
  assert.match(out, /Verdict: ALLOWED .*ingress of default\/server: Allow by tier default, GlobalNetworkPolicy web-a, ingress\[0\]/);
});

test('trace with flow logs on: a Deny that goes to cali-fl-deny-i (log, then drop) is the deciding rule, not a drop outside the endpoint chains: AGREE', async () => {
  const chains = renderedChains(world(), 'node-b', { ...defaultDataplaneConfig(), flowLogs: { nflogGroup: 20 } });
  const FL = chainNames.flowLogDeny('inbound');
  const deny = chains.get(SEC)!.find(has('comment "gnp/security.web[0]"'))!;
  assert.match(deny, new RegExp(`goto ${FL} comment`), 'with flow logs the Deny goes to the flow-log deny chain');
  const lines = toServer(chains, [[SEC, (l) => l === deny], [FL, has('log prefix "cali-fl|D|I" group 20')], [FL, (l) => l === 'drop']]);
  const { code, out } = await run(`${FLOW} --port 23 -o json`, new ScriptedNft(lines));
  assert.equal(code, 3, out);
  const j = JSON.parse(out);
  assert.equal(j.kernelTrace.agrees, true, JSON.stringify(j.kernelTrace.comparison));
  assert.equal(j.kernelTrace.trace.outside, undefined);
  const d = j.kernelTrace.trace.stages[0].decision;
  assert.deepEqual([d.kind, d.action, d.where, d.matched], ['rule', 'Deny', { tier: 'security' }, { owner: 'gnp/security.web', index: 0 }]);
  // The end of a tier still names the tier: the log rule before the endpoint chain's drop is a step.
  const end = passThenDefault(chains, [[TW, (l) => l.includes('log prefix "cali-fl|D|I"') && !l.includes('comment')], [TW, has('comment "end of tier default"')]]);
  const none = await run(`${FLOW} --port 9999 -o json`, new ScriptedNft(end));
  assert.equal(none.code, 3, none.out);
  assert.deepEqual(JSON.parse(none.out).kernelTrace.trace.stages[0].decision, { kind: 'end-of-tier', action: 'Deny', tier: 'default' });
});
