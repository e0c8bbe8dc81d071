// calicoctl explain --trace on a two-host lab (etcd, CNI, calico-node with
// BGP on each host): connections the policy denies and allows are each named
// (tier, policy, rule) both by the computed answer (from etcd) and by a real
// packet traced through each host's nftables ruleset, and the two agree. The
// deciding rules sit inside set lookups the compiler merged across policies.
// Flow logs are on in this lab (a policy Deny then goes to cali-fl-deny-<dir>,
// which logs to NFLOG and drops): the trace still agrees, and each host's
// flows.log names the same endpoints, verdict and tier / policy / rule.
//   client (host1) -> server (host2)
//   tier security (order 100): security.mail [0] Deny TCP 25      } one merged
//                              security.web  [0] Deny TCP 23      } deny lookup
//                              security.web  [1] Pass
//   tier default:              web-a [0] Allow TCP 80              } one merged
//                              web-b [0] Allow TCP 8080            } allow lookup
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FlowLogLine } from '../../../src/flowlogs/record.js';
import { CniLab, ETCD, ROOT, isRoot, waitFor } from '../cni/cni-lab.js';

const EXIT_DENIED = 3;
const EXIT_MISMATCH = 4;

const conf = (labels: Record<string, string>) => ({
  cniVersion: '1.0.0',
  name: 'k8s-pod-network',
  type: 'calico',
  etcd_endpoints: ETCD,
  policy_setup_timeout_seconds: 30,
  ipam: { type: 'calico-ipam', assign_ipv4: 'true', assign_ipv6: 'false', ipv4_pools: ['trace-v4'] },
  args: { cni: { labels: Object.entries(labels).map(([key, value]) => ({ key, value })) } },
});

const gnp = (name: string, spec: object) => ({ apiVersion: 'projectcalico.org/v3', kind: 'GlobalNetworkPolicy', metadata: { name }, spec: { selector: "app == 'server'", types: ['Ingress'], ...spec } });
const tcp = (action: string, port: number) => ({ action, protocol: 'TCP', destination: { ports: [port] } });

/** calicoctl in host1's namespace, asynchronously (a trace waits for the packet). */
function calicoctlAsync(lab: CniLab, args: string[], onStderr: (text: string) => void): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn('ip', ['netns', 'exec', lab.host('host1').ns, join(ROOT, 'bin/calicoctl'), ...args], { env: { ...process.env, ETCD_ENDPOINTS: ETCD, DATASTORE_TYPE: 'etcdv3' } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      onStderr(err);
    });
    child.on('close', (code) => resolve({ code: code ?? 1, out, err }));
  });
}

interface Side {
  direction: string;
  verdict: { action: string; decidedBy: Record<string, unknown> };
  because: string;
}
interface KernelTrace {
  agrees: boolean;
  comparison: string[];
  trace: { stages: { direction: string; endpoint: string; decision: Record<string, unknown> }[]; hops: { chain: string; meaning: string; rule: string }[] } | null;
}

/** Explains the connection (computed), then traces one attempt on both hosts at once. */
async function explainAndTrace(lab: CniLab, port: number, send: () => void) {
  const base = ['explain', '--from', 'default/client', '--to', 'default/server', '--port', String(port)];
  const computed = lab.calicoctl([...base, '-o', 'json']);
  assert.ok(computed.code === 0 || computed.code === EXIT_DENIED, computed.err);
  const ready = new Set<string>();
  const errs: Record<string, string> = {};
  const runs = ['host1', 'host2'].map((h) =>
    calicoctlAsync(lab, [...base, '--trace', '--node', h, '--netns', lab.host(h).ns, '--timeout', '20', '-o', 'json'], (err) => {
      errs[h] = err;
      if (err.includes('Tracing on node')) ready.add(h);
    }),
  );
  assert.ok(await waitFor(() => ready.size === 2, 30_000, 100), `both traces ready: ${JSON.stringify(errs)}`);
  send();
  const results = await Promise.all(runs);
  const traces: Record<string, KernelTrace> = {};
  const texts: Record<string, string> = {};
  results.forEach((r, i) => {
    const h = `host${i + 1}`;
    assert.notEqual(r.code, 1, `${h} trace failed: ${r.err}`);
    traces[h] = JSON.parse(r.out).kernelTrace as KernelTrace;
    texts[h] = `${r.out}\n${r.err}`;
    assert.equal(traces[h]!.agrees, true, `${h}: ${JSON.stringify(traces[h]!.comparison)}\n${texts[h]}`);
    assert.notEqual(r.code, EXIT_MISMATCH);
  });
  const json = JSON.parse(computed.out) as { action: string; egress: Side; ingress: Side };
  return { computed: json, traces, texts };
}

/** The records in a host's flows.log so far. */
const flowRecords = (dir: string): FlowLogLine[] =>
  existsSync(join(dir, 'flows.log')) ? readFileSync(join(dir, 'flows.log'), 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as FlowLogLine) : [];

const stageOf = (t: KernelTrace | undefined) => t?.trace?.stages.map((s) => [s.direction, s.endpoint, s.decision] as const);
const decisionOf = (t: KernelTrace | undefined) => t?.trace?.stages[0]?.decision ?? {};

test('explain --trace: denied and allowed connections are named identically by the computed answer and the kernel trace on both hosts, inside merged multi-policy lookups', { skip: isRoot ? false : 'needs root (network namespaces)', timeout: 300_000 }, async (t) => {
  const lab = new CniLab();
  // One flow-log directory per host: the hosts share the machine's filesystem.
  const flowDirs: Record<string, string> = { host1: mkdtempSync(join(tmpdir(), 'cts-trace-fl1-')), host2: mkdtempSync(join(tmpdir(), 'cts-trace-fl2-')) };
  try {
    await lab.start(['host1', 'host2']);
    lab.apply([
      { apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'trace-v4' }, spec: { cidr: '198.18.80.0/24', blockSize: 28, nodeSelector: 'all()' } },
      { apiVersion: 'projectcalico.org/v3', kind: 'Tier', metadata: { name: 'security' }, spec: { order: 100 } },
      gnp('security.mail', { tier: 'security', order: 1, ingress: [tcp('Deny', 25)] }),
      gnp('security.web', { tier: 'security', order: 2, ingress: [tcp('Deny', 23), { action: 'Pass' }] }),
      gnp('web-a', { order: 1, ingress: [tcp('Allow', 80)] }),
      gnp('web-b', { order: 2, ingress: [tcp('Allow', 8080)] }),
      { apiVersion: 'projectcalico.org/v3', kind: 'FelixConfiguration', metadata: { name: 'default' }, spec: { flowLogsFileEnabled: true, flowLogsFlushInterval: '1s' } },
      ...['host1', 'host2'].map((h) => ({ apiVersion: 'projectcalico.org/v3', kind: 'FelixConfiguration', metadata: { name: `node.${h}` }, spec: { flowLogsFileDirectory: flowDirs[h] } })),
    ]);
    for (const h of ['host1', 'host2']) lab.startNode(h);
    for (const h of ['host1', 'host2']) await lab.nodeReady(h);
    const add = async (host: string, pod: string, labels: Record<string, string>) => {
      const netns = lab.addContainer(pod);
      const env = { CNI_COMMAND: 'ADD', CNI_CONTAINERID: `cid-${pod}`, CNI_NETNS: netns, CNI_IFNAME: 'eth0', CNI_ARGS: `IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=${pod}` };
      const r = await lab.plugin(host, 'calico', env, { ...conf(labels), nodename_file: `${lab.host(host).runDir}/nodename`, endpoint_status_dir: `${lab.host(host).runDir}/endpoint-status` });
      assert.equal(r.code, 0, `ADD ${pod}: ${r.out}\n${r.err.slice(-2000)}`);
      return { ns: netns.split('/').pop()!, ip: (r.json!.ips as { address: string }[])[0]!.address.split('/')[0]! };
    };
    const client = await add('host1', 'client', { app: 'client' });
    const server = await add('host2', 'server', { app: 'server' });
    // Listeners on 80 and 8080 in the server (calico-node's runtime is on the machine; the container shares its filesystem).
    const listener = spawn('ip', ['netns', 'exec', server.ns, process.execPath, '-e', "for (const p of [80, 8080]) require('net').createServer((s) => s.end('ok\\n')).listen(p)"], { stdio: 'ignore' });
    try {
      const connect = (port: number) => spawnSync('ip', ['netns', 'exec', client.ns, 'timeout', '3', 'bash', '-c', `exec 3<>/dev/tcp/${server.ip}/${port} && head -c 3 <&3`], { encoding: 'utf8' });
      // BGP has carried the blocks and policy is in place once port 8080 answers.
      assert.ok(await waitFor(() => connect(8080).stdout === 'ok\n', 60_000, 500), 'client never reached server:8080');

      // The merged lookups are in host2's kernel with their comments.
      const table = lab.lab.exec(lab.host('host2').ns, ['nft', 'list', 'table', 'inet', 'calico']);
      assert.match(table, /goto cali-allow comment "run 0: gnp\/web-a\[0\] gnp\/web-b\[0\]"/);
      // With flow logs on the merged Deny goes to the flow-log deny chain (log to NFLOG, then drop).
      assert.match(table, /goto cali-fl-deny-i comment "run 0: gnp\/security\.mail\[0\] gnp\/security\.web\[0\]"/);
      assert.match(table, /chain cali-fl-deny-i \{[^}]*log prefix "cali-fl\|D\|I" group 20[^}]*drop/);

      // The flow-log reader binds its NFLOG group asynchronously: repeat the allowed connection until host2 logs it.
      const readerUp = await waitFor(() => {
        connect(8080);
        return flowRecords(flowDirs.host2!).some((r) => r.action === 'allow' && r.dest_port === 8080);
      }, 30_000, 1000);
      assert.ok(readerUp, `no flow record on host2: ${JSON.stringify(flowRecords(flowDirs.host2!))}\n${(lab.nodeLogs.get('host2') ?? '').split('\n').filter((l) => /flow/i.test(l)).join('\n')}`);
      /** Waits for a record on `host` the connection to `port` added after `before` records. */
      const recordOf = async (host: string, before: number, pick: (r: FlowLogLine) => boolean) => {
        let found: FlowLogLine | undefined;
        const ok = await waitFor(() => (found = flowRecords(flowDirs[host]!).slice(before).find(pick)) !== undefined, 20_000, 250);
        assert.ok(ok && found, `${host}: no such flow record: ${JSON.stringify(flowRecords(flowDirs[host]!).slice(before))}`);
        return found!;
      };
      const counts = () => ({ host1: flowRecords(flowDirs.host1!).length, host2: flowRecords(flowDirs.host2!).length });
      /** Both ends of a connection in the flow logs, matched against the trace: host1 (client's egress), host2 (server's ingress). */
      const flowsOf = async (before: { host1: number; host2: number }, port: number, action: string, traces: Record<string, KernelTrace>) => {
        const src = await recordOf('host1', before.host1, (r) => r.reporter === 'src' && r.dest_port === port);
        const dst = await recordOf('host2', before.host2, (r) => r.reporter === 'dst' && r.dest_port === port);
        const clientEp = stageOf(traces.host1)![0]![1].replace(/^workload:/, '').split('/');
        const serverEp = stageOf(traces.host2)![0]![1].replace(/^workload:/, '').split('/');
        // host1 names the client (its workload), host2 the server; the remote end is its address.
        assert.deepEqual([src.source_ip, src.source_type, src.source_namespace, src.source_name, src.dest_ip, src.proto, src.action, src.host], [client.ip, 'wep', clientEp[0], clientEp[1], server.ip, 'tcp', 'allow', 'host1'], JSON.stringify(src));
        assert.deepEqual([dst.source_ip, dst.dest_ip, dst.dest_type, dst.dest_namespace, dst.dest_name, dst.proto, dst.action, dst.host], [client.ip, server.ip, 'wep', serverEp[0], serverEp[1], 'tcp', action, 'host2'], JSON.stringify(dst));
        // The deciding rule, as the trace named it on each host.
        for (const [r, trace] of [[src, traces.host1], [dst, traces.host2]] as const) {
          const d = decisionOf(trace) as { where?: { tier?: string; profile?: string }; matched?: { owner: string; index: number } };
          const named = d.where?.profile !== undefined ? { decided_by: 'rule', tier: '__PROFILE__', name: `profile:${d.where.profile}`, rule: d.matched?.index } : { decided_by: 'rule', tier: d.where?.tier, name: d.matched?.owner, rule: d.matched?.index };
          assert.deepEqual(r.policy, named, `${r.host}: flow record ${JSON.stringify(r)} vs trace ${JSON.stringify(d)}`);
        }
        return { src, dst };
      };

      // Denied: TCP 23, by tier security, security.web rule 0, one set lookup shared with security.mail.
      const beforeDeny = counts();
      const denied = await explainAndTrace(lab, 23, () => void connect(23));
      assert.equal(denied.computed.action, 'deny');
      assert.equal(denied.computed.ingress.because, 'Deny by tier security, GlobalNetworkPolicy security.web, ingress[0]');
      assert.match(denied.computed.egress.because, /^Allow by Profile kns\.default, egress\[0\]$/);
      const denyDecision = decisionOf(denied.traces.host2);
      assert.deepEqual([denyDecision.kind, denyDecision.action, denyDecision.where, denyDecision.matched, denyDecision.candidates], [
        'rule',
        'Deny',
        { tier: 'security' },
        { owner: 'gnp/security.web', index: 0 },
        [{ owner: 'gnp/security.mail', index: 0 }, { owner: 'gnp/security.web', index: 0 }],
      ]);
      assert.match(denied.texts.host2!, /agree: ingress of default\/server: Deny by tier security, GlobalNetworkPolicy security\.web, ingress\[0\] \(one merged kernel rule for run 0: 2 rules\)/);
      assert.deepEqual(stageOf(denied.traces.host1)!.map((s) => [s[0], s[1], (s[2] as { where?: unknown }).where]), [['egress', 'workload:default/host1-k8s-client-eth0', { profile: 'kns.default' }]]);
      // The flow logs: host2 denied it by security.web rule 0 (as explain and the trace said), host1's profile allowed it out.
      const deniedFlows = await flowsOf(beforeDeny, 23, 'deny', denied.traces);
      assert.deepEqual(deniedFlows.dst.policy, { decided_by: 'rule', tier: 'security', name: 'gnp/security.web', rule: 0 });
      assert.deepEqual(deniedFlows.src.policy, { decided_by: 'rule', tier: '__PROFILE__', name: 'profile:kns.default', rule: 0 });

      // Allowed: TCP 8080, after security.web's Pass, by tier default, web-b rule 0 (one lookup shared with web-a).
      const beforeAllow = counts();
      const allowed = await explainAndTrace(lab, 8080, () => void connect(8080));
      assert.equal(allowed.computed.action, 'allow');
      assert.equal(allowed.computed.ingress.because, 'Allow by tier default, GlobalNetworkPolicy web-b, ingress[0]');
      const allowDecision = decisionOf(allowed.traces.host2);
      assert.deepEqual([allowDecision.action, allowDecision.where, allowDecision.matched], ['Allow', { tier: 'default' }, { owner: 'gnp/web-b', index: 0 }]);
      assert.match(allowed.texts.host2!, /agree: ingress of default\/server: Allow by tier default, GlobalNetworkPolicy web-b, ingress\[0\] \(one merged kernel rule for run 0: 2 rules\)/);
      t.diagnostic(`host2, TCP 8080:\n${allowed.texts.host2}`);
      const allowedFlows = await flowsOf(beforeAllow, 8080, 'allow', allowed.traces);
      assert.deepEqual(allowedFlows.dst.policy, { decided_by: 'rule', tier: 'default', name: 'gnp/web-b', rule: 0 });
      // The path shows security.web's Pass (rule 1) on the way.
      assert.ok(allowed.traces.host2!.trace!.hops.some((h) => h.meaning === 'tier security (ingress)' && h.rule.includes('goto cali-pass comment "gnp/security.web[1]"')), JSON.stringify(allowed.traces.host2!.trace!.hops, null, 1));

      // Neither: TCP 9999 ends tier default (no policy of it allows, its default action denies).
      const none = await explainAndTrace(lab, 9999, () => void connect(9999));
      assert.equal(none.computed.ingress.verdict.decidedBy.kind, 'end-of-tier');
      assert.deepEqual(decisionOf(none.traces.host2), { kind: 'end-of-tier', action: 'Deny', tier: 'default' });

      // The trace tables are gone from both hosts; calico-node's table is untouched.
      for (const h of ['host1', 'host2']) {
        const tables = lab.lab.exec(lab.host(h).ns, ['nft', 'list', 'tables']);
        assert.doesNotMatch(tables, /calico-trace/, `${h} kept the trace table`);
        assert.match(tables, /table inet calico\b/);
      }
    } finally {
      listener.kill('SIGKILL');
    }
  } finally {
    await lab.destroy();
    for (const d of Object.values(flowDirs)) rmSync(d, { recursive: true, force: true });
  }
});
