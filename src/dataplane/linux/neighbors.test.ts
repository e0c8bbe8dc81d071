import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeExec } from '../fakes.js';
import { LinuxNeighbors } from './drivers.js';

test('LinuxNeighbors.list keeps only our protocol, canonical addresses and lower-case MACs', async () => {
  const rows = [
    { dst: '198.18.1.1', dev: 'cali1', lladdr: 'EE:EE:EE:EE:EE:01', state: ['PERMANENT'], protocol: '80' },
    { dst: '198.18.1.3', dev: 'cali1', lladdr: '02:00:00:00:00:03', state: ['PERMANENT'] },
  ];
  const exec = new FakeExec(() => ({ code: 0, stdout: JSON.stringify(rows), stderr: '' }));
  assert.deepEqual(await new LinuxNeighbors(exec).list(4), [{ ip: '198.18.1.1', mac: 'ee:ee:ee:ee:ee:01', dev: 'cali1', family: 4 }]);
  assert.deepEqual(exec.log, ['ip -4 -j neigh show nud permanent proto 80']);
});

test('LinuxNeighbors: one batch; on error one call each, where an already-gone entry is not a failure to delete', async () => {
  const exec = new FakeExec((argv) => {
    if (argv[1] === '-batch') return { code: 1, stdout: '', stderr: 'Command failed -:1' };
    if (argv.includes('caliGone')) return { code: 1, stdout: '', stderr: 'Cannot find device "caliGone"' };
    return { code: 2, stdout: '', stderr: 'RTNETLINK answers: No such file or directory' };
  });
  const nb = new LinuxNeighbors(exec);
  const a = { ip: '198.18.1.1', mac: 'ee:ee:ee:ee:ee:01', dev: 'cali1', family: 4 as const };
  const b = { ip: '2001:db8::1', mac: 'ee:ee:ee:ee:ee:01', dev: 'caliGone', family: 6 as const };
  assert.deepEqual((await nb.remove([a, b])).failed, []);
  assert.deepEqual(exec.log.slice(1), ['ip neigh del 198.18.1.1 dev cali1', 'ip neigh del 2001:db8::1 dev caliGone']);
  const { failed } = await nb.replace([a, b]);
  assert.deepEqual(failed.map((f) => f.entry.dev), ['cali1', 'caliGone']);
  assert.ok(exec.log.includes('ip neigh replace 198.18.1.1 lladdr ee:ee:ee:ee:ee:01 dev cali1 nud permanent proto 80'));
});
