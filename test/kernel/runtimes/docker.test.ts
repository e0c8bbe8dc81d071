// A real Docker engine on two lab hosts, networked by bin/calico-libnetwork:
// `docker network create -d calico --ipam-driver calico-ipam`, containers on
// both hosts get Calico addresses and WorkloadEndpoints, reach each other, a
// policy applied with calicoctl changes what they reach, bad requests get
// Docker's error and change nothing, and removing containers and the network
// leaves no endpoint, address or veth.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemShell } from '../../../src/lab/shell.js';
import { Docker } from '../../../src/lab/runtimes/docker.js';
import { buildBusyboxRootfs, buildOciImage } from '../../../src/lab/runtimes/image.js';
import { CniLab, ETCD, isRoot, waitFor } from '../cni/cni-lab.js';

const IMAGE = 'localhost/busybox:latest';
const NET = 'calinet';
const have = (cmd: string) => systemShell.run(['sh', '-c', `command -v ${cmd}`], { allowFail: true }).then((r) => r.code === 0);

interface Wep {
  metadata: { name: string; namespace: string };
  spec: { orchestrator: string; workload?: string; endpoint: string; ipNetworks: string[]; node: string; interfaceName: string; mac?: string; profiles?: string[] };
}

test('Docker through calico-libnetwork: containers on two hosts get Calico addresses, reach each other, obey policy, leave nothing behind', { skip: isRoot ? false : 'needs root (network namespaces)', timeout: 600_000 }, async () => {
  for (const cmd of ['dockerd', 'docker', 'nsenter', 'unshare']) assert.ok(await have(cmd), `${cmd} is missing: run scripts/install-deps.sh`);
  const lab = new CniLab();
  const dir = mkdtempSync(join(tmpdir(), 'cts-docker-'));
  const engines: Docker[] = [];
  try {
    await lab.start(['host1', 'host2']);
    lab.apply([{ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'docker-v4' }, spec: { cidr: '198.18.98.0/24', blockSize: 28, nodeSelector: 'all()' } }]);
    for (const h of ['host1', 'host2']) lab.startNode(h);
    for (const h of ['host1', 'host2']) await lab.nodeReady(h);
    const rootfs = buildBusyboxRootfs(dir);
    await buildOciImage(systemShell, rootfs, join(dir, 'image'), IMAGE);
    const [d1, d2] = ['host1', 'host2'].map((h) => new Docker(systemShell, lab.host(h).ns, { dir: join(dir, `docker-${h}`) }));
    engines.push(d1!, d2!);
    for (const [h, d] of [['host1', d1!], ['host2', d2!]] as const) {
      await d.start({ NODENAME: h, DATASTORE_TYPE: 'etcdv3', ETCD_ENDPOINTS: ETCD });
      await d.importImage(join(dir, 'image', 'layer.tar'), IMAGE);
    }

    // Bad requests: Docker shows our error, nothing is stored.
    const wrongSubnet = await d1!.docker(['network', 'create', '-d', 'calico', '--ipam-driver', 'calico-ipam', '--subnet', '203.0.113.0/24', 'bad1'], { allowFail: true });
    assert.notEqual(wrongSubnet.code, 0);
    assert.match(wrongSubnet.stderr, /--subnet 203\.0\.113\.0\/24 must be the CIDR of a Calico IP pool/);
    const otherIpam = await d1!.docker(['network', 'create', '-d', 'calico', 'bad2'], { allowFail: true });
    assert.notEqual(otherIpam.code, 0);
    assert.match(otherIpam.stderr, /needs Calico IPAM: add --ipam-driver calico-ipam/);

    // The network, created once (scope global: both engines use the datastore, each creates its own docker network).
    for (const d of [d1!, d2!]) {
      const made = await d.docker(['network', 'create', '-d', 'calico', '--ipam-driver', 'calico-ipam', NET]);
      assert.equal(made.code, 0, made.stderr);
    }
    const serve = ['sh', '-c', 'mkdir -p /www && echo hello > /www/index.html && exec httpd -f -p 8080 -h /www'];
    for (const [d, name] of [[d1!, 'c1'], [d2!, 'c2']] as const) {
      const run = await d.docker(['run', '-d', '--name', name, '--network', NET, IMAGE, ...serve], { allowFail: true });
      assert.equal(run.code, 0, `${run.stderr}\nplugin: ${d.pluginLog.slice(-2000)}\ndockerd: ${d.log.slice(-2000)}`);
    }

    const weps = () => (JSON.parse(lab.calicoctl(['get', 'workloadendpoints', '-n', 'libnetwork', '-o', 'json']).out) as { items: Wep[] }).items;
    const all = weps();
    assert.equal(all.length, 2, JSON.stringify(all, null, 1));
    for (const w of all) {
      assert.equal(w.spec.orchestrator, 'libnetwork');
      assert.equal(w.spec.workload, 'libnetwork');
      assert.deepEqual(w.spec.profiles, [NET], 'the profile carries the docker network\'s name');
      assert.match(w.spec.ipNetworks[0]!, /^198\.18\.98\.\d+\/32$/);
      assert.equal(w.spec.interfaceName, `cali${w.spec.endpoint.slice(0, 11)}`);
      assert.match(w.spec.mac ?? '', /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/, 'Join recorded the container MAC');
    }
    const ipOf = async (d: Docker, name: string) => /inet (\S+)\/32/.exec((await d.docker(['exec', name, 'ip', '-4', 'addr', 'show', 'cali0'])).stdout)?.[1];
    const ip1 = await ipOf(d1!, 'c1');
    const ip2 = await ipOf(d2!, 'c2');
    assert.deepEqual(all.map((w) => w.spec.ipNetworks[0]).sort(), [`${ip1}/32`, `${ip2}/32`].sort());
    const route = (await d1!.docker(['exec', 'c1', 'ip', 'route'])).stdout;
    // Docker names the container's interface after the prefix Join gave it (cali, as Calico's plugin).
    assert.match(route, /default via 169\.254\.1\.1 dev cali0/);

    const ping = (d: Docker, from: string, to: string) => d.docker(['exec', from, 'ping', '-c', '1', '-W', '1', to], { allowFail: true }).then((r) => r.stdout.includes('1 packets received'));
    const fetch = (d: Docker, from: string, to: string) =>
      d.docker(['exec', from, 'sh', '-c', `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 2 ${to} 8080`], { allowFail: true }).then((r) => /\nhello\s*$/.test(r.stdout));
    assert.ok(await waitFor(async () => (await ping(d1!, 'c1', ip2!)) && (await ping(d2!, 'c2', ip1!)), 60_000, 1000), `cross-host ping; host1 routes:\n${lab.lab.ipn(lab.host('host1').ns, ['route'])}`);
    assert.ok(await fetch(d1!, 'c1', ip2!), 'TCP host1 -> host2');

    // Policy through calicoctl: the network's members take only TCP 8080 from each other.
    const policy = {
      apiVersion: 'projectcalico.org/v3',
      kind: 'GlobalNetworkPolicy',
      metadata: { name: 'calinet-web-only' },
      spec: { selector: `has(${NET})`, types: ['Ingress'], ingress: [{ action: 'Allow', protocol: 'TCP', source: { selector: `has(${NET})` }, destination: { ports: [8080] } }] },
    };
    assert.equal(lab.calicoctl(['apply', '-f', '-'], JSON.stringify(policy)).code, 0);
    assert.ok(await waitFor(async () => !(await ping(d1!, 'c1', ip2!)), 30_000, 500), 'ICMP is cut off by the policy');
    assert.ok(await fetch(d1!, 'c1', ip2!), 'TCP 8080 still passes');
    assert.equal(lab.calicoctl(['delete', 'globalnetworkpolicy', 'calinet-web-only']).code, 0);
    assert.ok(await waitFor(() => ping(d1!, 'c1', ip2!), 30_000, 500), 'ICMP passes again without the policy');

    // Removal: Docker calls Leave, DeleteEndpoint, ReleaseAddress; the networks go.
    for (const [d, name] of [[d1!, 'c1'], [d2!, 'c2']] as const) {
      assert.equal((await d.docker(['rm', '-f', name])).code, 0);
      assert.equal((await d.docker(['network', 'rm', NET])).code, 0);
    }
    assert.deepEqual(weps(), []);
    for (const h of ['host1', 'host2']) assert.deepEqual(lab.caliLinks(h), [], `${h}: no veth left`);
    const check = lab.calicoctl(['ipam', 'check']);
    assert.equal(check.code, 0, check.out + check.err);
    assert.match(check.out, /0 handle\(s\), 0 address\(es\) in use/);
  } finally {
    for (const d of engines) await d.stop().catch(() => undefined);
    await lab.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
});
