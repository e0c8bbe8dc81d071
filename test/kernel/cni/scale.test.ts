// 50 containers ADDed at once across two hosts, each host with its own
// calico-node (BGP mesh through BIRD), then GC and 50 DELs: every address
// unique, containers on one host reach containers on the other, a repeated
// ADD yields the same address, GC releases exactly the attachments the
// runtime no longer lists, and after the DELs nothing is left: IPAM check
// clean, no WorkloadEndpoints, no handles, no cali* interfaces.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CniLab, ETCD, isRoot, waitFor } from './cni-lab.js';

const PER_HOST = 25;
const HOSTS = ['host1', 'host2'];

const conf = {
  cniVersion: '1.1.0',
  name: 'k8s-pod-network',
  type: 'calico',
  etcd_endpoints: ETCD,
  log_level: 'info',
  policy_setup_timeout_seconds: 30,
  ipam: { type: 'calico-ipam', assign_ipv4: 'true', assign_ipv6: 'true', ipv4_pools: ['scale-v4'], ipv6_pools: ['scale-v6'] },
};

interface Attachment {
  host: string;
  cid: string;
  pod: string;
  netns: string;
  v4?: string;
  v6?: string;
}

const cniEnv = (command: string, a: Attachment) => ({ CNI_COMMAND: command, CNI_CONTAINERID: a.cid, CNI_NETNS: a.netns, CNI_IFNAME: 'eth0', CNI_ARGS: `IgnoreUnknown=1;K8S_POD_NAMESPACE=scale;K8S_POD_NAME=${a.pod}` });

test('CNI at scale: 50 concurrent ADDs on two hosts with calico-node, cross-host traffic, GC, 50 DELs, nothing leaked', { skip: isRoot ? false : 'needs root (network namespaces)', timeout: 600_000 }, async () => {
  const lab = new CniLab();
  try {
    await lab.start(HOSTS);
    lab.apply([
      { apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'scale-v4' }, spec: { cidr: '198.18.64.0/22', blockSize: 28, nodeSelector: 'all()' } },
      { apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'scale-v6' }, spec: { cidr: '2001:db8:64::/112', blockSize: 124, nodeSelector: 'all()' } },
    ]);
    for (const h of HOSTS) lab.startNode(h);
    for (const h of HOSTS) await lab.nodeReady(h);
    const confFor = (host: string) => ({ ...conf, nodename_file: `${lab.host(host).runDir}/nodename`, endpoint_status_dir: `${lab.host(host).runDir}/endpoint-status` });

    const attachments: Attachment[] = [];
    for (const host of HOSTS) {
      for (let i = 0; i < PER_HOST; i++) {
        const pod = `${host}-pod-${i}`;
        attachments.push({ host, pod, cid: `c${host.slice(-1)}x${String(i).padStart(2, '0')}`, netns: lab.addContainer(`${host.slice(-1)}-${i}`) });
      }
    }

    // All 50 ADDs at once (25 per host).
    const adds = await Promise.all(attachments.map((a) => lab.plugin(a.host, 'calico', cniEnv('ADD', a), confFor(a.host))));
    adds.forEach((r, i) => assert.equal(r.code, 0, `ADD ${attachments[i]!.cid}: ${r.out}\n${r.err.slice(-2000)}`));
    adds.forEach((r, i) => {
      const ips = (r.json!.ips as { address: string }[]).map((x) => x.address.split('/')[0]!);
      attachments[i]!.v4 = ips.find((x) => !x.includes(':'));
      attachments[i]!.v6 = ips.find((x) => x.includes(':'));
    });
    const v4s = attachments.map((a) => a.v4!);
    const v6s = attachments.map((a) => a.v6!);
    assert.equal(new Set(v4s).size, 50, 'IPv4 addresses unique');
    assert.equal(new Set(v6s).size, 50, 'IPv6 addresses unique');
    assert.ok(v4s.every((a) => a.startsWith('198.18.6')), v4s.join(' '));
    // Each ADD waited for its calico-node to program the endpoint (the status file contract).
    assert.ok(adds.every((r) => /calico-node programmed scale\//.test(r.err)), adds.map((r) => r.err).find((e) => !/calico-node programmed/.test(e))?.slice(-1500));
    const weps = JSON.parse(lab.calicoctl(['get', 'workloadendpoints', '-n', 'scale', '-o', 'json']).out) as { items: { spec: { node: string } }[] };
    assert.equal(weps.items.length, 50);
    for (const h of HOSTS) assert.equal(lab.caliLinks(h).length, PER_HOST, `${h}: one veth per container`);

    // Cross-host: every container on host1 reaches one on host2 (IPv4 and IPv6), once BGP has carried the blocks.
    const h1 = attachments.filter((a) => a.host === 'host1');
    const h2 = attachments.filter((a) => a.host === 'host2');
    const reach = (from: Attachment, to: string) => lab.inContainer(from.netns, ['ping', '-c', '1', '-W', '1', to], { allowFail: true }).includes('1 received');
    const routed = await waitFor(() => reach(h1[0]!, h2[0]!.v4!) && reach(h2[0]!, h1[0]!.v4!), 60_000, 500);
    assert.ok(routed, `host1 <-> host2 workloads never became reachable; host1 routes:\n${lab.lab.ipn(lab.host('host1').ns, ['route'])}`);
    const misses: string[] = [];
    for (let i = 0; i < PER_HOST; i++) {
      if (!reach(h1[i]!, h2[(i + 7) % PER_HOST]!.v4!)) misses.push(`${h1[i]!.cid} -> ${h2[(i + 7) % PER_HOST]!.cid} (v4)`);
      if (!reach(h2[i]!, h1[(i + 3) % PER_HOST]!.v6!)) misses.push(`${h2[i]!.cid} -> ${h1[(i + 3) % PER_HOST]!.cid} (v6)`);
    }
    assert.deepEqual(misses, []);

    // A repeated ADD of one container never takes a second address.
    const again = await lab.plugin('host1', 'calico', cniEnv('ADD', h1[0]!), confFor('host1'));
    assert.equal(again.code, 0, again.out);
    assert.deepEqual((again.json!.ips as { address: string }[]).map((x) => x.address.split('/')[0]).sort(), [h1[0]!.v4!, h1[0]!.v6!].sort());
    const handle = JSON.parse(lab.etcdctl(['get', '--print-value-only', `/calico/ipam/v2/handle/k8s-pod-network.${h1[0]!.cid}`])) as { block: Record<string, number> };
    assert.equal(Object.values(handle.block).reduce((s, n) => s + n, 0), 2);

    // GC on host2: the runtime lost five containers (their namespaces are gone); everything else is still valid.
    const lost = h2.slice(0, 5);
    for (const a of lost) lab.removeContainer(a.netns);
    const valid = attachments.filter((a) => !lost.includes(a)).map((a) => ({ containerID: a.cid, ifname: 'eth0' }));
    const gc = await lab.plugin('host2', 'calico', { CNI_COMMAND: 'GC' }, { ...confFor('host2'), 'cni.dev/valid-attachments': valid });
    assert.equal(gc.code, 0, gc.out + gc.err);
    for (const a of lost) assert.equal(lab.etcdctl(['get', '--keys-only', `/calico/ipam/v2/handle/k8s-pod-network.${a.cid}`]).trim(), '', `${a.cid} released`);
    const afterGc = JSON.parse(lab.calicoctl(['get', 'workloadendpoints', '-n', 'scale', '-o', 'json']).out) as { items: unknown[] };
    assert.equal(afterGc.items.length, 45);
    assert.ok(reach(h1[1]!, h2[6]!.v4!), 'GC left the valid attachments working');

    // All DELs at once (the GC'd ones again too: DEL is idempotent).
    const dels = await Promise.all(attachments.map((a) => lab.plugin(a.host, 'calico', cniEnv('DEL', a), confFor(a.host))));
    dels.forEach((r, i) => assert.equal(r.code, 0, `DEL ${attachments[i]!.cid}: ${r.out}${r.err.slice(-1500)}`));

    const check = lab.calicoctl(['ipam', 'check']);
    assert.equal(check.code, 0, check.out + check.err);
    assert.match(check.out, /0 handle\(s\), 0 address\(es\) in use/);
    assert.match(check.out, /no problems found/);
    assert.equal(lab.etcdctl(['get', '--prefix', '--keys-only', '/calico/ipam/v2/handle/']).trim(), '');
    assert.equal(lab.etcdctl(['get', '--prefix', '--keys-only', '/calico/resources/v3/projectcalico.org/workloadendpoints/']).trim(), '');
    for (const h of HOSTS) assert.deepEqual(lab.caliLinks(h), [], `${h}: no veth left`);
    // And calico-node took the endpoints down again: no status file left.
    for (const h of HOSTS) {
      const gone = await waitFor(() => lab.lab.exec(lab.host(h).ns, ['ls', `${lab.host(h).runDir}/endpoint-status`], { allowFail: true }).trim() === '', 20_000);
      assert.ok(gone, `${h}: endpoint status files removed`);
    }
  } finally {
    await lab.destroy();
  }
});
