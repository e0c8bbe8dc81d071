// The harness other tests rely on: it must really start, restart, compact and clean up.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { startEtcd } from '../support/etcd.js';

test('startEtcd: plain etcd answers, restarts on the same port keeping data, and cleans up', async () => {
  const etcd = await startEtcd();
  try {
    await etcd.etcdctl(['put', '/calico/test/a', '1']);
    const before = await etcd.revision();
    await etcd.restart();
    assert.equal(await etcd.revision(), before);
    assert.match(await etcd.etcdctl(['get', '/calico/test/a', '--print-value-only']), /^1/);
    await etcd.kill();
    assert.equal(etcd.running, false);
    await etcd.start();
    assert.equal(await etcd.compact(), before);
    assert.equal(etcd.env.ETCD_ENDPOINTS, etcd.endpoint);
  } finally {
    await etcd.stop();
  }
  assert.equal(existsSync(etcd.baseDir), false);
});

test('startEtcd: TLS with client certificates and auth', async () => {
  const etcd = await startEtcd({ tls: true, auth: true });
  try {
    assert.match(etcd.endpoint, /^https:\/\/127\.0\.0\.1:\d+$/);
    assert.ok(etcd.env.ETCD_CA_CERT_FILE && etcd.env.ETCD_USERNAME === 'root');
    await etcd.etcdctl(['put', '/calico/test/b', '2']);
    // Without credentials the write is refused: auth really is on.
    await assert.rejects(() => etcd.etcdctl(['put', '/calico/test/b', '3', '--user=nobody:wrong']));
  } finally {
    await etcd.stop();
  }
});
