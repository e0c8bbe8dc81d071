// calicoctl apply/get of AddressSpace and the xlat decode | encode | endpoints commands, in process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { main } from '../calicoctl.js';
import { corpusIO } from '../../api/corpus.test-support.js';

const SPACES = `
apiVersion: projectcalico.org/v3
kind: AddressSpace
metadata: {name: tenant-a}
spec: {prefix: "2001:db8:64:1::/96"}
---
apiVersion: projectcalico.org/v3
kind: AddressSpace
metadata: {name: tenant-b}
spec: {prefix: "2001:db8:64:2::/96"}
---
apiVersion: projectcalico.org/v3
kind: WorkloadEndpoint
metadata: {name: h1-cni-c1-eth0, namespace: t}
spec: {node: h1, orchestrator: cni, containerID: c1, endpoint: eth0, interfaceName: cali1, mac: "ee:ee:ee:ee:ee:01", ipNetworks: [198.18.5.1/32], addressSpace: tenant-a}
---
apiVersion: projectcalico.org/v3
kind: WorkloadEndpoint
metadata: {name: h2-cni-c2-eth0, namespace: t}
spec: {node: h2, orchestrator: cni, containerID: c2, endpoint: eth0, interfaceName: cali2, mac: "ee:ee:ee:ee:ee:02", ipNetworks: [198.18.5.1/32], addressSpace: tenant-b}
`;

async function withSpaces() {
  const io = corpusIO({ 'spaces.yaml': SPACES });
  assert.equal(await main(['apply', '-f', 'spaces.yaml'], io), 0, io.errOut);
  io.out = '';
  return io;
}

test('calicoctl apply + get addressspaces: PREFIX column; a bad prefix is refused naming the field and nothing is written', async () => {
  const io = await withSpaces();
  assert.equal(await main(['get', 'addressspaces'], io), 0, io.errOut);
  assert.match(io.out, /tenant-a +2001:db8:64:1::\/96/);
  const bad = corpusIO({ 'bad.yaml': 'apiVersion: projectcalico.org/v3\nkind: AddressSpace\nmetadata: {name: x}\nspec: {prefix: "2001:db8:64:1::/64"}\n' });
  assert.equal(await main(['apply', '-f', 'bad.yaml'], bad), 1);
  assert.match(bad.errOut, /spec\.prefix.*must be a \/96/);
  assert.equal((await bad.datastoreImpl.list({ kind: 'AddressSpace' })).items.length, 0);
});

test('calicoctl xlat decode: a captured address -> space + IPv4; unknown addresses say so and exit 1', async () => {
  const io = await withSpaces();
  assert.equal(await main(['xlat', 'decode', '2001:db8:64:2::c612:501', '2001:db8:64:1::c612:5ff'], io), 0, io.errOut);
  assert.match(io.out, /2001:db8:64:2::c612:501 +tenant-b +198\.18\.5\.1/);
  assert.match(io.out, /2001:db8:64:1::c612:5ff +tenant-a +198\.18\.5\.255/);
  io.out = '';
  assert.equal(await main(['xlat', 'decode', '2001:db8:99::1'], io), 1);
  assert.match(io.out, /\(no address space\)/);
  assert.equal(await main(['xlat', 'decode', '198.18.5.1'], io), 1);
  assert.match(io.errOut, /not an IPv6 address/);
});

test('calicoctl xlat encode and endpoints: the IPv6 forms, and only the named space\'s endpoints', async () => {
  const io = await withSpaces();
  assert.equal(await main(['xlat', 'encode', 'tenant-a', '198.18.5.0/24', '198.18.5.7'], io), 0, io.errOut);
  assert.deepEqual(io.out.trim().split('\n'), ['2001:db8:64:1::c612:500/120', '2001:db8:64:1::c612:507']);
  io.out = '';
  assert.equal(await main(['xlat', 'endpoints', 'tenant-b'], io), 0, io.errOut);
  assert.match(io.out, /h2-cni-c2-eth0 +h2 +cali2 +198\.18\.5\.1 +2001:db8:64:2::c612:501/);
  assert.doesNotMatch(io.out, /h1-cni-c1-eth0/);
  assert.equal(await main(['xlat', 'endpoints', 'nope'], io), 1);
  assert.match(io.errOut, /AddressSpace\(nope\) does not exist/);
});
