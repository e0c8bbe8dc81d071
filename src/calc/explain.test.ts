// calicoctl explain's core: the verdict of both sides of a flow, by name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Resource } from '../api/resource.js';
import { FakeIO } from '../cli/fake-io.js';
import { ExplainError, explainFlow } from './explain.js';

const r = (kind: Resource['kind'], name: string, spec: Record<string, unknown>, extra: { namespace?: string; labels?: Record<string, string> } = {}): Resource => ({
  apiVersion: 'projectcalico.org/v3',
  kind,
  metadata: { name, ...(extra.namespace ? { namespace: extra.namespace } : {}), ...(extra.labels ? { labels: extra.labels } : {}) },
  spec,
});
const wep = (ns: string, pod: string, node: string, ip: string, app: string) =>
  r('WorkloadEndpoint', `${node}-k8s-${pod}-eth0`, { orchestrator: 'k8s', node, pod, endpoint: 'eth0', interfaceName: `cali${pod}`, ipNetworks: [`${ip}/32`], profiles: [`kns.${ns}`] }, { namespace: ns, labels: { app, 'projectcalico.org/namespace': ns } });

function world(): Resource[] {
  return [
    r('Profile', 'kns.prod', { ingress: [{ action: 'Allow' }], egress: [{ action: 'Allow' }] }),
    r('Tier', 'security', { order: 100 }),
    // Security: clients never reach the database; everything else goes on.
    r('GlobalNetworkPolicy', 'security.no-client-db', {
      tier: 'security',
      order: 10,
      selector: "app == 'db'",
      types: ['Ingress'],
      ingress: [
        { action: 'Deny', source: { selector: "app == 'client'" } },
        { action: 'Pass' },
      ],
    }),
    // Default tier: the database takes 5432 from web only.
    r('NetworkPolicy', 'db-from-web', { order: 1, selector: "app == 'db'", types: ['Ingress'], ingress: [{ action: 'Log', protocol: 'TCP' }, { action: 'Allow', protocol: 'TCP', source: { selector: "app == 'web'" }, destination: { ports: [5432] } }] }, { namespace: 'prod' }),
    wep('prod', 'web-1', 'host1', '198.18.0.1', 'web'),
    wep('prod', 'client-1', 'host1', '198.18.0.2', 'client'),
    wep('prod', 'db-1', 'host2', '198.18.1.1', 'db'),
    wep('prod', 'cache-1', 'host2', '198.18.1.2', 'cache'),
  ];
}

test('allowed: egress by the profile, ingress passed on by security and allowed by the default tier\'s rule', () => {
  const e = explainFlow(world(), { from: 'prod/web-1', to: 'prod/db-1', protocol: 'TCP', dstPort: 5432 });
  assert.equal(e.action, 'allow');
  assert.equal(e.egress?.because, 'Allow by Profile kns.prod, egress[0]');
  assert.equal(e.ingress?.because, 'Allow by tier default, NetworkPolicy prod/db-from-web, ingress[1]');
  assert.deepEqual(e.ingress?.verdict.passed, [{ tier: 'security', policy: 'gnp/security.no-client-db', index: 1 }]);
  assert.deepEqual(e.ingress?.verdict.logged, [{ tier: 'default', policy: 'np/prod/db-from-web', index: 0 }]);
  assert.deepEqual([e.packet.src, e.packet.dst, e.packet.protocol, e.packet.dstPort], ['198.18.0.1', '198.18.1.1', 6, 5432]);
});

test('denied by name: a Deny rule in an earlier tier; the end of a tier; the same flow from an address', () => {
  const client = explainFlow(world(), { from: 'prod/client-1', to: 'prod/db-1', protocol: 'TCP', dstPort: 5432 });
  assert.equal(client.action, 'deny');
  assert.equal(client.summary, 'DENIED by ingress of prod/db-1: Deny by tier security, GlobalNetworkPolicy security.no-client-db, ingress[0]');
  const wrongPort = explainFlow(world(), { from: 'prod/web-1', to: 'prod/db-1', protocol: 'TCP', dstPort: 80 });
  assert.equal(wrongPort.ingress?.because, "Deny at the end of tier default (its policies applied to the endpoint, none decided; the tier's default action)");
  // An address that is an endpoint's is that endpoint; one that is nobody's is outside: no egress side.
  assert.equal(explainFlow(world(), { from: '198.18.0.2', to: 'prod/db-1', protocol: 'TCP', dstPort: 5432 }).summary, client.summary);
  const outside = explainFlow(world(), { from: '203.0.113.9', to: '198.18.1.1', protocol: 'ICMP' });
  assert.equal(outside.egress, undefined);
  assert.equal(outside.packet.icmpType, 8);
  assert.equal(outside.action, 'deny', 'ICMP is neither passed to nor allowed by the default tier');
  // No policy selects cache-1: its profile decides.
  assert.equal(explainFlow(world(), { from: 'prod/client-1', to: 'prod/cache-1', protocol: 'UDP', dstPort: 53 }).ingress?.because, 'Allow by Profile kns.prod, ingress[0]');
});

test('bad input names what is wrong', () => {
  const bad = (flow: Parameters<typeof explainFlow>[1], msg: RegExp) => assert.throws(() => explainFlow(world(), flow), (e) => e instanceof ExplainError && msg.test(e.message));
  bad({ from: 'prod/nope', to: 'prod/db-1', protocol: 'TCP', dstPort: 1 }, /no WorkloadEndpoint or HostEndpoint is "prod\/nope"/);
  bad({ from: 'prod/web-1', to: 'prod/db-1', protocol: 'TCP' }, /TCP needs a destination port \(--port\)/);
  bad({ from: 'prod/web-1', to: 'prod/db-1', protocol: 'GRE' }, /unknown protocol "GRE"/);
  bad({ from: 'prod/web-1', to: '2001:db8::1', protocol: 'ICMP' }, /different IP families/);
});

test('calicoctl explain: human output names tier, policy and rule; exit 0 allowed, 3 denied; json', async () => {
  const io = new FakeIO();
  for (const res of world()) await io.datastore.create(res);
  const ok = await io.run('explain --from prod/web-1 --to prod/db-1 --protocol TCP --port 5432');
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /^Packet: TCP 198\.18\.0\.1:40000 -> 198\.18\.1\.1:5432$/m);
  assert.match(ok.stdout, /^Ingress of prod\/db-1 \(node host2\): ALLOW$/m);
  assert.match(ok.stdout, /^ {2}passed on: tier security, GlobalNetworkPolicy security\.no-client-db, ingress\[1\]$/m);
  const no = await io.run('explain --from prod/client-1 --to prod/db-1 --port 5432');
  assert.equal(no.code, 3);
  assert.match(no.stdout, /^Verdict: DENIED by ingress of prod\/db-1: Deny by tier security, GlobalNetworkPolicy security\.no-client-db, ingress\[0\]$/m);
  const json = await io.run('explain --from prod/client-1 --to prod/db-1 --port 5432 -o json');
  assert.equal(JSON.parse(json.stdout).ingress.verdict.decidedBy.rule.policy, 'gnp/security.no-client-db');
  const err = await io.run('explain --from prod/web-1');
  assert.equal(err.code, 1);
  assert.match(err.stderr, /give both --from and --to/);
});
