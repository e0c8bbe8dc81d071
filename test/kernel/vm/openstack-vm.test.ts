// A real VM on the OpenStack model, end to end: two hosts with calico-node
// and BIRD (FelixConfiguration interfacePrefix "cali,tap"), a container on
// host h2 made by the CNI plugin, and on h1 a QEMU guest on a tap device that
// the test (standing in for the VM manager) made, with the MAC and address it
// chose written as an `openstack` WorkloadEndpoint. calico-dhcp-agent on h1
// serves the guest its /32 and gateway routes; the guest and the container
// reach each other across hosts; a policy written to the datastore changes
// what the guest can reach; a forged source address from the guest is
// dropped. One guest boot for the whole file (TCG is slow); everything
// (qemu, dnsmasq, agents, namespaces) is killed and removed also on failure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CniLab, ETCD, ROOT, sleep, waitFor } from '../cni/cni-lab.js';
import { Guest, buildInitramfs, findGuestKernel, vmSkipReason } from './guest.js';

const POOL = '198.19.16.0/24';
const VM_IP = '198.19.16.200';
const FORGED = '198.19.16.201';
const TAP = 'tap0a1b2c3d4e5';
const MAC = 'fa:16:3e:0a:1b:2c';
const HOSTS = ['h1', 'h2'];

const v3 = (kind: string, name: string, spec: object, extra: object = {}) => ({ apiVersion: 'projectcalico.org/v3', kind, metadata: { name, ...extra }, spec });

/** Counts packets `filter` sees on `iface` in `ns` while `during` runs. */
async function capture(ns: string, iface: string, filter: string, during: () => Promise<unknown>): Promise<number> {
  const dump: ChildProcess = spawn('ip', ['netns', 'exec', ns, 'tcpdump', '-l', '-n', '-i', iface, filter], { stdio: ['ignore', 'pipe', 'pipe'] });
  let lines = 0;
  let err = '';
  dump.stdout!.on('data', (d: Buffer) => (lines += d.toString().split('\n').filter((l) => l.trim()).length));
  dump.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const listening = await waitFor(() => err.includes('listening on'), 10_000, 50);
  if (!listening) throw new Error(`tcpdump in ${ns} did not start: ${err}`);
  try {
    await during();
    await sleep(500); // the last packets' lines
  } finally {
    dump.kill('SIGINT');
  }
  return lines;
}

test('OpenStack-model VM: DHCP from calico-dhcp-agent, reachability with a container on another host, policy from the datastore, forged source dropped', { skip: vmSkipReason(), timeout: 900_000 }, async () => {
  const kernel = findGuestKernel();
  if (typeof kernel === 'string') throw new Error(kernel);
  const lab = new CniLab();
  const guest = new Guest();
  const work = mkdtempSync(join(tmpdir(), 'cts-vm-'));
  let agentLog = '';
  try {
    await lab.start(HOSTS);
    lab.apply([
      v3('IPPool', 'vms', { cidr: POOL, blockSize: 28, nodeSelector: 'all()' }),
      // OpenStack deployments name VM interfaces tap*: calico-node must treat them as workloads too.
      v3('FelixConfiguration', 'default', { interfacePrefix: 'cali,tap' }),
      // A security group as networking-calico writes it: a profile the VM's endpoint names.
      v3('Profile', 'openstack-sg-default', { ingress: [{ action: 'Allow' }], egress: [{ action: 'Allow' }] }),
    ]);
    for (const h of HOSTS) lab.startNode(h);
    for (const h of HOSTS) await lab.nodeReady(h);
    const h1 = lab.host('h1');
    const h2 = lab.host('h2');

    // The container on h2, through the CNI plugin (it waits until h2's calico-node programmed it).
    const ctrNs = lab.addContainer('ctr');
    const add = await lab.plugin('h2', 'calico', { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'ctr1', CNI_NETNS: ctrNs, CNI_IFNAME: 'eth0', CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAMESPACE=web;K8S_POD_NAME=ctr' }, {
      cniVersion: '1.0.0', name: 'k8s-pod-network', type: 'calico', etcd_endpoints: ETCD, nodename_file: `${h2.runDir}/nodename`, policy_setup_timeout_seconds: 30,
      ipam: { type: 'calico-ipam', assign_ipv4: 'true', assign_ipv6: 'false', ipv4_pools: ['vms'] },
    });
    assert.equal(add.code, 0, add.out + add.err);
    const ctrIp = (add.json!.ips as { address: string }[])[0]!.address.split('/')[0]!;
    assert.notEqual(ctrIp, VM_IP);

    // The VM manager's part on h1: the tap, then the endpoint with the MAC and address it chose.
    lab.lab.ipn(h1.ns, ['tuntap', 'add', 'dev', TAP, 'mode', 'tap']);
    lab.lab.ipn(h1.ns, ['link', 'set', TAP, 'up']);
    lab.apply([
      v3('WorkloadEndpoint', 'h1-openstack-vm1-port1', {
        orchestrator: 'openstack', node: 'h1', workload: 'vm1', endpoint: 'port1',
        interfaceName: TAP, mac: MAC, ipNetworks: [`${VM_IP}/32`], profiles: ['openstack-sg-default'],
      }, { namespace: 'openstack', labels: { role: 'vm' } }),
    ]);
    // calico-node programs the tap like a cali interface: route and the host's side of ARP.
    const routed = await waitFor(() => lab.lab.ipn(h1.ns, ['route', 'show', `${VM_IP}/32`]).includes(`dev ${TAP}`), 30_000);
    assert.ok(routed, `no route to the VM on h1:\n${lab.lab.ipn(h1.ns, ['route'])}\n${(lab.nodeLogs.get('h1') ?? '').slice(-2000)}`);
    assert.equal(lab.lab.exec(h1.ns, ['cat', `/proc/sys/net/ipv4/conf/${TAP}/proxy_arp`]).trim(), '1');
    assert.match(lab.lab.ipn(h1.ns, ['neigh', 'show', 'dev', TAP]), new RegExp(`${VM_IP.replace(/\./g, '\\.')} lladdr ${MAC} PERMANENT`));

    // The DHCP service for h1's VMs.
    const agent = lab.lab.spawnIn(h1.ns, ['env', 'NODENAME=h1', `CALICO_RUN_DIR=${h1.runDir}`, 'DATASTORE_TYPE=etcdv3', `ETCD_ENDPOINTS=${ETCD}`, 'CALICO_DHCP_LEASE_SECONDS=600', join(ROOT, 'bin/calico-dhcp-agent')]);
    agent.stderr?.on('data', (d: Buffer) => (agentLog += d.toString()));
    const served = await waitFor(() => agentLog.includes('DHCP service updated'), 30_000);
    assert.ok(served, `calico-dhcp-agent did not start dnsmasq:\n${agentLog.slice(-3000)}`);
    assert.match(lab.lab.ipn(h1.ns, ['-4', 'addr', 'show', 'dev', 'ns-calico-dhcp']), /inet 169\.254\.1\.1\/32/);

    // Boot. The guest asks for its address on its own; it must get exactly the /32 and the gateway routes.
    guest.start({ netns: h1.ns, tap: TAP, mac: MAC, kernel, initramfs: buildInitramfs(work, kernel, 'vm1') });
    const lease = await guest.waitLine(/^VMTEST (lease|dhcp failed)/, 300_000);
    assert.equal(lease, `VMTEST lease ip=${VM_IP} mask=32 routes=169.254.1.1/32 0.0.0.0 0.0.0.0/0 169.254.1.1 router=169.254.1.1 serverid=169.254.1.1`, `${lease}\nagent:\n${agentLog.slice(-3000)}`);
    await guest.waitLine(/^VMTEST ready$/, 120_000);
    const addr = await guest.run('ip -4 -o addr show dev eth0; ip -4 route');
    assert.match(addr.out, new RegExp(`inet ${VM_IP.replace(/\./g, '\\.')}/32`));
    assert.match(addr.out, /default via 169\.254\.1\.1 dev eth0/);

    // The container on h2 reaches the VM's server (once BGP carried the VM's /32 to h2) ...
    // HTTP by hand with nc: busybox's wget crashes (static glibc, no NSS files).
    const fetch = () => lab.inContainer(ctrNs, ['sh', '-c', `printf 'GET /id HTTP/1.0\\r\\n\\r\\n' | busybox nc -w 3 ${VM_IP} 8080`], { allowFail: true }).trim();
    const reached = await waitFor(() => /\nvm1$/.test(fetch()), 90_000, 1000);
    if (!reached) {
      const inGuest = await guest.run(`ping -c 1 -W 2 169.254.1.1; ping -c 1 -W 2 ${ctrIp}; ip route; netstat -ltn`);
      assert.fail(`container on h2 never reached the VM; h2 routes:\n${lab.lab.ipn(h2.ns, ['route'])}\nh1 routes:\n${lab.lab.ipn(h1.ns, ['route'])}\nguest:\n${inGuest.out}\nh1 ruleset:\n${lab.lab.exec(h1.ns, ['nft', 'list', 'ruleset']).slice(0, 6000)}`);
    }
    // ... and the VM reaches the container and h2 itself.
    const ping = async (ip: string, src?: string) => (await guest.run(`ping -c 1 -W 2 ${src ? `-I ${src} ` : ''}${ip}`)).code === 0;
    assert.ok(await ping(ctrIp), 'VM -> container');
    assert.ok(await ping(h2.v4), 'VM -> host h2');

    // Policy through the datastore: egress from VMs to the container denied, everything else allowed.
    lab.apply([v3('GlobalNetworkPolicy', 'vm-egress', { selector: "role == 'vm'", types: ['Egress'], egress: [{ action: 'Deny', destination: { nets: [`${ctrIp}/32`] } }, { action: 'Allow' }] })]);
    let blocked = false;
    for (let i = 0; i < 30 && !blocked; i++) blocked = !(await ping(ctrIp));
    assert.ok(blocked, 'the policy never stopped VM -> container');
    assert.ok(await ping(h2.v4), 'the policy denies only the container: VM -> h2 still works');
    const del = lab.calicoctl(['delete', 'globalnetworkpolicy', 'vm-egress']);
    assert.equal(del.code, 0, del.out + del.err);
    let open = false;
    for (let i = 0; i < 30 && !open; i++) open = await ping(ctrIp);
    assert.ok(open, 'VM -> container never came back after the policy was deleted');

    // A forged source: the guest gives itself a second address and pings from it. The packets leave the
    // guest (seen on the tap) and never reach the container; the same pings from its own address do.
    assert.equal((await guest.run(`ip addr add ${FORGED}/32 dev eth0`)).code, 0);
    let onTap = 0;
    const forgedAtCtr = await capture(ctrNs.split('/').pop()!, 'eth0', `icmp and src host ${FORGED}`, async () => {
      onTap = await capture(h1.ns, TAP, `icmp and src host ${FORGED}`, () => ping(ctrIp, FORGED));
    });
    assert.ok(onTap >= 1, 'the guest did send the forged packets');
    assert.equal(forgedAtCtr, 0, 'forged source reached the container');
    const realAtCtr = await capture(ctrNs.split('/').pop()!, 'eth0', `icmp and src host ${VM_IP}`, () => ping(ctrIp, VM_IP));
    assert.ok(realAtCtr >= 1, 'the same capture sees the VM\'s own address');
  } finally {
    await guest.stop();
    await lab.destroy();
    rmSync(work, { recursive: true, force: true });
  }
});
