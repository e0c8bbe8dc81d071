// Real container runtimes through our CNI plugins: podman (CNI backend) and
// containerd (`ctr run --cni`) on host1, each in that host's network
// namespace with state of its own, and a plain workload on host2. Each
// container gets its address from calico-ipam and a WorkloadEndpoint,
// reaches the workload on the other host (ping, TCP), a policy applied with
// calicoctl changes what each reaches, and removing the containers (the
// runtimes run DEL) leaves no endpoint, address or veth.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemShell } from '../../../src/lab/shell.js';
import { Containerd } from '../../../src/lab/runtimes/containerd.js';
import { buildBusyboxRootfs, buildOciImage } from '../../../src/lab/runtimes/image.js';
import { Podman } from '../../../src/lab/runtimes/podman.js';
import { CniLab, CNI_PATH, ETCD, isRoot, waitFor } from '../cni/cni-lab.js';

const NETWORK = 'calico-net';
const IMAGE = 'localhost/busybox:latest';
const have = (cmd: string) => systemShell.run(['sh', '-c', `command -v ${cmd}`], { allowFail: true }).then((r) => r.code === 0);

interface Wep {
  metadata: { name: string; namespace: string };
  spec: { orchestrator: string; workload?: string; containerID?: string; ipNetworks: string[]; node: string; interfaceName: string };
}

test('podman and containerd containers get their network from calico, reach another host, obey policy, leave nothing behind', { skip: isRoot ? false : 'needs root (network namespaces)', timeout: 600_000 }, async () => {
  for (const cmd of ['podman', 'runc', 'containerd', 'ctr', 'nsenter', 'unshare']) assert.ok(await have(cmd), `${cmd} is missing: run scripts/install-deps.sh`);
  const lab = new CniLab();
  const dir = mkdtempSync(join(tmpdir(), 'cts-runtimes-'));
  let podman: Podman | undefined;
  let containerd: Containerd | undefined;
  try {
    await lab.start(['host1', 'host2']);
    lab.apply([{ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'rt-v4' }, spec: { cidr: '198.18.96.0/24', blockSize: 28, nodeSelector: 'all()' } }]);
    for (const h of ['host1', 'host2']) lab.startNode(h);
    for (const h of ['host1', 'host2']) await lab.nodeReady(h);
    const calico = (host: string) => ({
      type: 'calico',
      etcd_endpoints: ETCD,
      log_level: 'info',
      nodename_file: `${lab.host(host).runDir}/nodename`,
      endpoint_status_dir: `${lab.host(host).runDir}/endpoint-status`,
      policy_setup_timeout_seconds: 30,
      ipam: { type: 'calico-ipam', assign_ipv4: 'true', assign_ipv6: 'false', ipv4_pools: ['rt-v4'] },
    });
    const list = (host: string) => ({ cniVersion: '1.0.0', name: NETWORK, plugins: [calico(host)] });

    // The workload the containers talk to: a plain namespace on host2, ADDed as a runtime there would.
    const server = lab.addContainer('server');
    const added = await lab.runner('host2').add(list('host2'), { containerID: 'server-1', netns: server, ifName: 'eth0', args: { IgnoreUnknown: '1' } });
    const serverIP = (added as { ips: { address: string }[] }).ips[0]!.address.split('/')[0]!;
    lab.inContainer(server, ['sh', '-c', `mkdir -p ${dir}/www && echo hello > ${dir}/www/index.html`]);
    const httpd = lab.lab.spawnIn(server.split('/').pop()!, ['busybox', 'httpd', '-f', '-p', '8080', '-h', join(dir, 'www')]);
    void httpd;

    const rootfs = buildBusyboxRootfs(dir);
    podman = new Podman(systemShell, lab.host('host1').ns, { dir: join(dir, 'podman'), cniPath: CNI_PATH });
    podman.addNetwork(list('host1'));
    await podman.run({ name: 'p1', network: NETWORK, rootfs, command: ['sleep', '3600'] });

    containerd = new Containerd(systemShell, lab.host('host1').ns, { dir: join(dir, 'containerd'), cniPath: CNI_PATH });
    await containerd.start();
    await containerd.importImage(await buildOciImage(systemShell, rootfs, join(dir, 'image'), IMAGE), IMAGE);
    containerd.addNetwork(list('host1'));
    await containerd.run('c1', IMAGE, ['sleep', '3600']);

    // Each has a WorkloadEndpoint on host1 with an address from the pool.
    const weps = () => (JSON.parse(lab.calicoctl(['get', 'workloadendpoints', '-A', '-o', 'json']).out) as { items: Wep[] }).items;
    const mine = weps().filter((w) => w.spec.node === 'host1');
    assert.equal(mine.length, 2, JSON.stringify(weps(), null, 1));
    for (const w of mine) assert.match(w.spec.ipNetworks[0]!, /^198\.18\.96\.\d+\/32$/);
    // Plain CNI as Calico's plugin names it: orchestrator cni, the container ID as workload, the network's profile.
    for (const w of mine) assert.deepEqual([w.spec.orchestrator, (w.spec as { profiles?: string[] }).profiles], ['cni', [NETWORK]]);
    assert.ok(mine.some((w) => w.spec.containerID === 'default-c1'), 'ctr names the container <namespace>-<id>');
    assert.ok(mine.some((w) => /^[0-9a-f]{64}$/.test(w.spec.containerID ?? '')), 'podman passes its 64-hex container ID');
    const addrOf = async (exec: (cmd: string[]) => Promise<{ stdout: string }>) => /inet (\S+)\/32/.exec((await exec(['ip', '-4', 'addr', 'show', 'eth0'])).stdout)?.[1];
    const podIP = await addrOf((c) => podman!.exec('p1', c));
    const ctrIP = await addrOf((c) => containerd!.exec('c1', c));
    assert.ok(podIP && ctrIP && podIP !== ctrIP, `two distinct addresses: ${podIP} ${ctrIP}`);
    assert.deepEqual(mine.map((w) => w.spec.ipNetworks[0]).sort(), [`${podIP}/32`, `${ctrIP}/32`].sort(), 'the endpoints carry the containers\' addresses');

    // Both reach the workload on host2: ping and TCP.
    const pings = (exec: (cmd: string[], o: { allowFail: boolean }) => Promise<{ stdout: string }>) => exec(['ping', '-c', '1', '-W', '1', serverIP], { allowFail: true }).then((r) => r.stdout.includes('1 packets received'));
    const fetches = (exec: (cmd: string[], o: { allowFail: boolean }) => Promise<{ stdout: string }>) => exec(['sh', '-c', `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 2 ${serverIP} 8080`], { allowFail: true }).then((r) => /\nhello\s*$/.test(r.stdout));
    const fromPodman = (c: string[], o: { allowFail: boolean }) => podman!.exec('p1', c, o);
    const fromCtr = (c: string[], o: { allowFail: boolean }) => containerd!.exec('c1', c, o);
    assert.ok(await waitFor(async () => (await pings(fromPodman)) && (await pings(fromCtr)), 60_000, 1000), `ping across hosts; host1 routes:\n${lab.lab.ipn(lab.host('host1').ns, ['route'])}`);
    assert.ok(await waitFor(() => fetches(fromPodman), 10_000, 500), `podman container: TCP to host2: ${JSON.stringify(await podman.exec('p1', ['sh', '-c', `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 2 ${serverIP} 8080`], { allowFail: true }))}`);
    assert.ok(await fetches(fromCtr), 'containerd container: TCP to host2');

    // A policy through calicoctl: host2's workload takes TCP 8080 only from the podman container.
    const policy = {
      apiVersion: 'projectcalico.org/v3',
      kind: 'GlobalNetworkPolicy',
      metadata: { name: 'server-from-podman' },
      spec: { selector: `has(${NETWORK})`, types: ['Ingress'], ingress: [{ action: 'Allow', protocol: 'TCP', source: { nets: [`${podIP}/32`] }, destination: { ports: [8080] } }] },
    };
    const applied = lab.calicoctl(['apply', '-f', '-'], JSON.stringify(policy));
    assert.equal(applied.code, 0, applied.err);
    assert.ok(await waitFor(async () => !(await fetches(fromCtr)), 30_000, 500), 'the containerd container is cut off');
    assert.ok(await fetches(fromPodman), 'the podman container still reaches it');
    assert.equal(await pings(fromPodman), false, 'ICMP is not in the policy');
    // Deleting the policy gives the containerd container its access back.
    assert.equal(lab.calicoctl(['delete', 'globalnetworkpolicy', 'server-from-podman']).code, 0);
    assert.ok(await waitFor(() => fetches(fromCtr), 30_000, 500), 'the containerd container reaches it again');

    // The runtimes remove their containers and run DEL: nothing of ours is left on host1.
    await podman.remove('p1');
    await containerd.remove('c1');
    assert.deepEqual(weps().filter((w) => w.spec.node === 'host1'), []);
    assert.deepEqual(lab.caliLinks('host1'), []);
    await lab.runner('host2').del(list('host2'), { containerID: 'server-1', netns: server, ifName: 'eth0', args: { IgnoreUnknown: '1' } });
    const check = lab.calicoctl(['ipam', 'check']);
    assert.equal(check.code, 0, check.out + check.err);
    assert.match(check.out, /0 handle\(s\), 0 address\(es\) in use/);
  } finally {
    await podman?.destroy().catch(() => undefined);
    await containerd?.stop().catch(() => undefined);
    await lab.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
});
