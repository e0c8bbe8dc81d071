import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { parseTopology } from './topology.js';
import { planLab } from './plan.js';
import { workloadNetwork } from './workloads.js';
import { requestConfig, selectVersion } from '../cni/conflist.js';
import { pluginEnv } from '../cni/conflist.js';
import { parseNetConf } from '../cni/config.js';
import { parseCniEnv } from '../cni/protocol.js';
import { workloadFor } from '../cni/plan.js';
import { ValidationError } from '../base/errors.js';

const root = new URL('../../../', import.meta.url).pathname;
const topo = (file: string) => parseTopology(parse(readFileSync(`${root}${file}`, 'utf8')), file);

/** What the calico plugin will make of a lab workload's network: its own parser and naming. */
function asPluginSeesIt(file: string, workload: string) {
  const plan = planLab(topo(file));
  const w = plan.topology.workloads.find((x) => x.name === workload)!;
  const { list, attachment } = workloadNetwork(plan, w, '/run/calico-lab/demo');
  const version = selectVersion(list);
  const conf = parseNetConf(JSON.stringify(requestConfig(list.plugins[0]!, { list, version, op: 'ADD' })), { plugin: 'calico' });
  const env = parseCniEnv(pluginEnv('ADD', { attachment, path: [] }));
  return { conf, env, identity: workloadFor(env, conf, w.host) };
}

test('lab workloads: the calico plugin config the lab runs is valid and names the pod, pools, labels, ports and the host\'s calico-node files', () => {
  const { conf, env, identity } = asPluginSeesIt('test/e2e/topology.yaml', 'web-1');
  assert.deepEqual(conf.notes, [], 'nothing ignored');
  assert.equal(env.args.K8S_POD_NAMESPACE, 'prod');
  assert.equal(env.netns, '/var/run/netns/cts-e2e-w-web-1'.replace('cts-e2e-', planLab(topo('test/e2e/topology.yaml')).topology.prefix));
  assert.deepEqual(conf.node.nodenameFiles, ['/run/calico-lab/demo/nodes/host1/nodename']);
  assert.equal(conf.endpointStatusDir, '/run/calico-lab/demo/nodes/host1/endpoint-status');
  assert.ok(conf.policySetupTimeoutSeconds > 0, 'the lab waits for policy before a workload counts as up');
  assert.equal(conf.ipam.type, 'calico-ipam');
  assert.equal(identity.wepName, 'host1-k8s-web--1-eth0');
  assert.deepEqual(identity.labels, { app: 'web', 'projectcalico.org/namespace': 'prod', 'projectcalico.org/orchestrator': 'k8s' });
  assert.deepEqual(identity.ports, [{ name: 'http', protocol: 'TCP', port: 80 }]);
  assert.deepEqual(identity.profiles, ['kns.prod']);
});

test('lab workloads: without calico-node the plugin is told the node name and does not wait', () => {
  const plan = planLab(topo('examples/lab/default.yaml'));
  const { list } = workloadNetwork(plan, plan.topology.workloads[0]!, '/x', { agents: false });
  const conf = parseNetConf(JSON.stringify(requestConfig(list.plugins[0]!, { list, version: '1.0.0', op: 'ADD' })), { plugin: 'calico' });
  assert.deepEqual([conf.node.nodename, conf.node.nodenameFileOptional, conf.policySetupTimeoutSeconds], ['host1', true, 0]);
});

test('lab workloads: pools per workload become ipv4_pools / ipv6_pools and the families to assign', () => {
  const pub = asPluginSeesIt('examples/lab/default.yaml', 'public-1').conf.ipam;
  assert.deepEqual([pub.assignIpv4, pub.ipv4Pools, pub.assignIpv6, pub.ipv6Pools], [true, ['public'], false, []]);
  const web = asPluginSeesIt('examples/lab/default.yaml', 'web-1').conf.ipam;
  assert.deepEqual([web.assignIpv4, web.ipv4Pools, web.assignIpv6, web.ipv6Pools], [true, ['private'], true, ['ipv6']]);
});

test('lab topology: a fixed address outside every pool is refused (the plugin takes it from IPAM)', () => {
  const doc = parse(readFileSync(`${root}examples/lab/default.yaml`, 'utf8')) as { workloads: Record<string, unknown>[] };
  doc.workloads[0]!.addresses = ['192.0.2.77'];
  assert.throws(() => parseTopology(doc, 't.yaml'), (e: unknown) => e instanceof ValidationError && /addresses\[0\].*none of the pools/.test(e.message));
  doc.workloads[0]!.addresses = ['198.19.7.7'];
  const t = parseTopology(doc, 't.yaml');
  const { list } = workloadNetwork(planLab(t), t.workloads[0]!, '/x');
  const conf = parseNetConf(JSON.stringify(requestConfig(list.plugins[0]!, { list, version: '1.0.0', op: 'ADD' })), { plugin: 'calico' });
  assert.deepEqual([conf.ips, conf.ipam.assignIpv4, conf.ipam.assignIpv6], [['198.19.7.7'], true, false]);
});
