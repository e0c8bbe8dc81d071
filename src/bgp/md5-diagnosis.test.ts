import { test } from 'node:test';
import assert from 'node:assert/strict';
import { explainStuckSessions, parseTcpMd5Counters } from './md5-diagnosis.js';
import type { BgpSession } from './status.js';

const netstat = (failure: number, notFound: number, unexpected: number) =>
  `TcpExt: SyncookiesSent TCPMD5NotFound TCPMD5Unexpected TCPMD5Failure\nTcpExt: 0 ${notFound} ${unexpected} ${failure}\nIpExt: InNoRoutes\nIpExt: 0\n`;
const session = (addr: string, bgpState: string): BgpSession => ({
  protocolName: `Mesh_${addr.replace(/\./g, '_')}`, type: 'mesh', family: 4, peerAddress: addr, state: 'start', since: '', info: bgpState, bgpState,
});

test('parses the TcpExt MD5 counters', () => {
  assert.deepEqual(parseTcpMd5Counters(netstat(3, 2, 1)), { failure: 3, notFound: 2, unexpected: 1 });
  assert.deepEqual(parseTcpMd5Counters(''), { failure: 0, notFound: 0, unexpected: 0 });
});

test('explains stuck sessions only when the kernel dropped MD5 segments', () => {
  const before = parseTcpMd5Counters(netstat(0, 0, 0));
  const sessions = [session('192.0.2.2', 'Connect'), session('192.0.2.3', 'Established'), session('192.0.2.4', 'Active')];
  assert.deepEqual(explainStuckSessions(sessions, { before, after: before }, new Set(['192.0.2.2'])), []);
  const lines = explainStuckSessions(sessions, { before, after: parseTcpMd5Counters(netstat(4, 0, 1)) }, new Set(['192.0.2.2']));
  assert.deepEqual(lines, [
    'BGP session Mesh_192_0_2_2 to 192.0.2.2 is Connect: the kernel dropped 4 segment(s) signed with a different TCP MD5 key: the BGP password differs on the two sides',
    'BGP session Mesh_192_0_2_4 to 192.0.2.4 is Active: the kernel dropped 1 signed segment(s): the peer uses a BGP password and this node has none',
  ]);
});
