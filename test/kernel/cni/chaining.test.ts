// calico chained with Debian's reference plugins (tuning, portmap,
// bandwidth from /usr/lib/cni), run by the conflist runner the way a runtime
// runs a network configuration list, on a host with calico-node: each plugin
// gets calico's result as prevResult and does its part (a sysctl in the
// container, a host port DNAT that another host can use, a tbf qdisc on the
// host veth); CHECK passes through all four and fails when calico's part is
// broken; DEL (in reverse) removes every trace; a chain that fails half-way
// is cleaned up by the runtime's DEL. CHECK runs without portmap: Debian's
// portmap 1.1.1 looks for its IPv4 DNAT rules in the IPv6 nat table and
// always fails CHECK (its ADD and DEL are exercised here).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CniLab, ETCD, ROOT, isRoot, waitFor } from './cni-lab.js';
import { ConflistError } from '../../../src/cni/conflist-exec.js';
import type { NetworkConfigList } from '../../../src/cni/conflist.js';

const havePlugins = ['tuning', 'portmap', 'bandwidth'].every((p) => existsSync(`/usr/lib/cni/${p}`));
const skip = !isRoot ? 'needs root (network namespaces)' : !havePlugins ? 'containernetworking-plugins not installed (scripts/install-deps.sh)' : false;

test('chaining: calico + tuning + portmap + bandwidth from a conflist; CHECK; DEL removes all; a failing chain is cleaned by DEL', { skip, timeout: 300_000 }, async () => {
  const lab = new CniLab();
  try {
    await lab.start(['host1', 'host2']);
    lab.apply([
      { apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'chain' }, spec: { cidr: '198.18.80.0/24', blockSize: 26, nodeSelector: 'all()' } },
      { apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'chain-v6' }, spec: { cidr: '2001:db8:80::/120', blockSize: 122, nodeSelector: 'all()' } },
    ]);
    lab.startNode('host1', { CALICO_NETWORKING_BACKEND: 'none' });
    await lab.nodeReady('host1');
    const run = lab.host('host1').runDir;
    const list: NetworkConfigList = {
      cniVersion: '1.0.0',
      name: 'k8s-pod-network',
      plugins: [
        { type: 'calico', capabilities: { portMappings: true }, etcd_endpoints: ETCD, nodename_file: join(run, 'nodename'), endpoint_status_dir: join(run, 'endpoint-status'), policy_setup_timeout_seconds: 20, ipam: { type: 'calico-ipam', assign_ipv6: 'true' } },
        { type: 'tuning', sysctl: { 'net.core.somaxconn': '512' } },
        { type: 'portmap', capabilities: { portMappings: true } },
        { type: 'bandwidth', capabilities: { bandwidth: true } },
      ],
    };
    const netns = lab.addContainer('web');
    const attachment = {
      containerID: 'chain-web',
      netns,
      ifName: 'eth0',
      args: { IgnoreUnknown: '1', K8S_POD_NAMESPACE: 'chain', K8S_POD_NAME: 'web' },
      capabilityArgs: { portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }], bandwidth: { ingressRate: 8_000_000, ingressBurst: 1_000_000 } },
    };
    const runner = lab.runner('host1');
    const result = (await runner.add(list, attachment)) as { interfaces: { name: string; sandbox?: string }[]; ips: { address: string; interface: number }[] };
    const hostIf = result.interfaces.find((i) => !i.sandbox)!.name;
    const ip = result.ips[0]!.address.split('/')[0]!;
    assert.equal(result.ips[0]!.interface, 1, 'the address is on the container interface');

    // tuning: the sysctl inside the container.
    assert.equal(lab.inContainer(netns, ['sysctl', '-n', 'net.core.somaxconn']).trim(), '512');
    // bandwidth: ingress shaping on the host end of the veth.
    assert.match(lab.lab.exec(lab.host('host1').ns, ['tc', 'qdisc', 'show', 'dev', hostIf]), /tbf/);
    // calico declares portMappings too: its WorkloadEndpoint records the host port.
    const wep = JSON.parse(lab.calicoctl(['get', 'workloadendpoint', '-n', 'chain', 'host1-k8s-web-eth0', '-o', 'json']).out) as { spec: { interfaceName: string; ports: unknown[] } };
    assert.equal(wep.spec.interfaceName, hostIf);
    assert.deepEqual(wep.spec.ports, [{ protocol: 'TCP', port: 80, hostPort: 8080 }]);
    // portmap: host2 reaches the container's port 80 through host1's port 8080 (calico-node routes and allows it).
    lab.lab.spawnIn(netns.split('/').pop()!, ['node', join(ROOT, 'dist/src/lab/probe-agent.js'), 'serve']);
    const viaHostPort = () => lab.lab.exec(lab.host('host2').ns, ['timeout', '3', 'bash', '-c', `exec 3<>/dev/tcp/${lab.host('host1').v4}/8080; cat <&3`], { allowFail: true });
    const answered = await waitFor(() => /^calico-lab 80 /.test(viaHostPort()), 20_000, 500);
    assert.ok(answered, `no answer through the host port; host1 nat:\n${lab.lab.exec(lab.host('host1').ns, ['iptables', '-t', 'nat', '-S'], { allowFail: true })}`);
    assert.equal(lab.lab.exec(lab.host('host2').ns, ['ping', '-c', '1', '-W', '2', ip], { allowFail: true }).includes('1 received'), false, 'host2 has no route to the pod itself: the host port is the way in');

    // CHECK through the chain, then with calico's default route gone: calico's CHECK says so (101).
    const checkable: NetworkConfigList = { ...list, plugins: list.plugins.filter((p) => p.type !== 'portmap') };
    await runner.check(checkable, attachment, result);
    lab.inContainer(netns, ['ip', 'route', 'del', 'default']);
    await assert.rejects(runner.check(checkable, attachment, result), (e: unknown) => e instanceof ConflistError && e.plugin === 'calico' && e.code === 101 && /route 0.0.0.0\/0 via 169.254.1.1 is missing/.test(e.message));

    // DEL in reverse: portmap's chains, the qdisc with the veth, calico's veth, endpoint and addresses.
    await runner.del(list, attachment, result);
    assert.doesNotMatch(lab.lab.exec(lab.host('host1').ns, ['iptables', '-t', 'nat', '-S'], { allowFail: true }), /CNI-DN-/);
    assert.deepEqual(lab.caliLinks('host1'), []);
    assert.equal(lab.etcdctl(['get', '--prefix', '--keys-only', '/calico/ipam/v2/handle/']).trim(), '');
    assert.equal(lab.etcdctl(['get', '--prefix', '--keys-only', '/calico/resources/v3/projectcalico.org/workloadendpoints/']).trim(), '');
    await runner.del(list, attachment, result); // and again: every plugin's DEL is idempotent

    // A chain that fails half-way (tuning refuses a sysctl that does not exist): the runtime DELs, nothing is left.
    const broken: NetworkConfigList = { ...list, plugins: [list.plugins[0]!, { type: 'tuning', sysctl: { 'net.bogus.nothing': '1' } }, list.plugins[2]!] };
    const second = { ...attachment, containerID: 'chain-broken', netns: lab.addContainer('broken'), args: { ...attachment.args, K8S_POD_NAME: 'broken' } };
    await assert.rejects(runner.add(broken, second), (e: unknown) => e instanceof ConflistError && e.plugin === 'tuning');
    assert.equal(lab.caliLinks('host1').length, 1, 'calico had done its part before tuning failed');
    await runner.del(broken, second);
    assert.deepEqual(lab.caliLinks('host1'), []);
    assert.equal(lab.etcdctl(['get', '--prefix', '--keys-only', '/calico/ipam/v2/handle/']).trim(), '');
    const check = lab.calicoctl(['ipam', 'check']);
    assert.match(check.out, /no problems found/, check.out + check.err);
  } finally {
    await lab.destroy();
  }
});
