// STATUS, GC and the datastore going away, with the real binaries and etcd:
// STATUS says 51 until the node is registered, 50 when the pool is full or
// etcd is gone, 0 otherwise; GC (calico and calico-ipam) releases what the
// runtime no longer lists and keeps the rest; with etcd down an ADD fails
// with "try again later" (11) and leaves no interface behind; `calico -t`
// (Calico's install check) answers 0 or code 100.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { CniLab, ETCD, ROOT, isRoot } from './cni-lab.js';

const CONF = {
  cniVersion: '1.1.0',
  name: 'gcnet',
  type: 'calico',
  etcd_endpoints: ETCD,
  nodename: 'host1',
  nodename_file_optional: true,
  ipam: { type: 'calico-ipam', ipv4_pools: ['tiny'] },
};
const env = (command: string, cid: string, netns: string, pod = cid) => ({ CNI_COMMAND: command, CNI_CONTAINERID: cid, CNI_NETNS: netns, CNI_IFNAME: 'eth0', CNI_ARGS: `K8S_POD_NAMESPACE=gc;K8S_POD_NAME=${pod}` });
const handle = (cid: string) => `/calico/ipam/v2/handle/gcnet.${cid}`;

test('STATUS 50/51/0, GC keeps valid attachments and releases the rest, an etcd outage fails ADD cleanly (11)', { skip: isRoot ? false : 'needs root (network namespaces)', timeout: 300_000 }, async () => {
  const lab = new CniLab();
  try {
    await lab.start(['host1']);
    lab.apply([{ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'tiny' }, spec: { cidr: '198.18.90.0/30', blockSize: 30, nodeSelector: 'all()' } }]);
    const status = async () => (await lab.plugin('host1', 'calico', { CNI_COMMAND: 'STATUS' }, CONF)).json;

    // No Node resource: calico-node never ran here.
    assert.equal((await status())!.code, 51);
    lab.apply([{ apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: { name: 'host1' }, spec: { bgp: { ipv4Address: '192.0.2.1/24' } } }]);
    const ok = await lab.plugin('host1', 'calico', { CNI_COMMAND: 'STATUS' }, CONF);
    assert.deepEqual([ok.code, ok.out], [0, '']);

    // Two pods through calico, two bare allocations through calico-ipam: the /30 is full.
    const a = lab.addContainer('a');
    const b = lab.addContainer('b');
    for (const [cid, ns] of [['ca', a], ['cb', b]] as const) {
      const r = await lab.plugin('host1', 'calico', env('ADD', cid, ns), CONF);
      assert.equal(r.code, 0, r.out + r.err);
    }
    for (const cid of ['i1', 'i2']) assert.equal((await lab.plugin('host1', 'calico-ipam', env('ADD', cid, a), CONF)).code, 0);
    const full = await status();
    assert.equal(full!.code, 50);
    assert.match(full!.msg as string, /no free IPv4 address for node host1 in 198.18.90.0\/30/);
    const refused = await lab.plugin('host1', 'calico', env('ADD', 'cc', lab.addContainer('c')), CONF);
    assert.equal(refused.code, 1);
    assert.equal(lab.caliLinks('host1').length, 2, 'the refused ADD made no interface');

    // GC: the runtime still has pod a and allocation i1; b and i2 are gone from its list.
    const valid = [{ containerID: 'ca', ifname: 'eth0' }, { containerID: 'i1', ifname: 'eth0' }];
    const gcIpam = await lab.plugin('host1', 'calico-ipam', { CNI_COMMAND: 'GC' }, { ...CONF, 'cni.dev/valid-attachments': valid });
    assert.equal(gcIpam.code, 0, gcIpam.out);
    assert.equal(lab.etcdctl(['get', '--keys-only', handle('i2')]).trim(), '', 'calico-ipam GC released i2');
    assert.equal(lab.etcdctl(['get', '--keys-only', handle('cb')]).trim(), '', 'and cb (same network, same node)');
    const gc = await lab.plugin('host1', 'calico', { CNI_COMMAND: 'GC' }, { ...CONF, 'cni.dev/valid-attachments': valid });
    assert.equal(gc.code, 0, gc.out + gc.err);
    const weps = JSON.parse(lab.calicoctl(['get', 'workloadendpoints', '-n', 'gc', '-o', 'json']).out) as { items: { metadata: { name: string } }[] };
    assert.deepEqual(weps.items.map((w) => w.metadata.name), ['host1-k8s-ca-eth0']);
    assert.equal(lab.caliLinks('host1').length, 1, 'the stale endpoint\'s veth went with it');
    assert.notEqual(lab.etcdctl(['get', '--keys-only', handle('ca')]).trim(), '', 'the valid pod kept its address');
    assert.notEqual(lab.etcdctl(['get', '--keys-only', handle('i1')]).trim(), '');
    assert.equal((await lab.plugin('host1', 'calico', { CNI_COMMAND: 'STATUS' }, CONF)).code, 0, 'room again after GC');

    // calico -t: Calico's install-time datastore check.
    const t = (input: object) => spawnSync('ip', ['netns', 'exec', lab.host('host1').ns, join(ROOT, 'bin/calico'), '-t'], { input: JSON.stringify(input), encoding: 'utf8' });
    assert.equal(t(CONF).status, 0);

    // etcd goes away: STATUS 50, ADD 11 and nothing made, -t code 100.
    await lab.killEtcd();
    const down = await status();
    assert.equal(down!.code, 50);
    assert.match(down!.msg as string, /datastore does not answer/);
    const d = lab.addContainer('d');
    const add = await lab.plugin('host1', 'calico', env('ADD', 'cd', d), CONF);
    assert.equal(add.json!.code, 11, add.out);
    assert.equal(lab.inContainer(d, ['ip', 'link', 'show', 'eth0'], { allowFail: true }), '', 'no interface left in the container');
    assert.equal(lab.caliLinks('host1').length, 1);
    const tDown = t(CONF);
    assert.equal(tDown.status, 1);
    assert.equal((JSON.parse(tDown.stdout) as { code: number }).code, 100);
  } finally {
    await lab.destroy();
  }
});
