import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryFileSystem } from './fakes.js';
import { RotatingFile } from './rotating-file.js';

test('flow-log file: rotated past flowLogsFileMaxFileSizeMB, at most flowLogsFileMaxFiles files kept, lines never cut', async () => {
  const fs = new MemoryFileSystem();
  const file = new RotatingFile({ fs, directory: '/var/log/calico/flowlogs', maxFiles: 3, maxFileSizeBytes: 20 });
  assert.equal(file.path, '/var/log/calico/flowlogs/flows.log');
  for (const n of [1, 2, 3, 4, 5]) await file.write([`line-${n}-aaaa`, `line-${n}-bbbb`]); // 28 bytes a batch: one batch per file
  assert.deepEqual([...fs.files.keys()].sort(), ['/var/log/calico/flowlogs/flows.log', '/var/log/calico/flowlogs/flows.log.1', '/var/log/calico/flowlogs/flows.log.2']);
  assert.equal(fs.files.get(file.path), 'line-5-aaaa\nline-5-bbbb\n');
  assert.equal(fs.files.get(`${file.path}.1`), 'line-4-aaaa\nline-4-bbbb\n');
  assert.equal(fs.files.get(`${file.path}.2`), 'line-3-aaaa\nline-3-bbbb\n');
  assert.equal(file.rotations, 4);
  assert.ok(fs.dirs.has('/var/log/calico/flowlogs'));
  // Small batches share a file until the limit.
  const fs2 = new MemoryFileSystem();
  const small = new RotatingFile({ fs: fs2, directory: '/d', maxFiles: 1, maxFileSizeBytes: 100 });
  for (let i = 0; i < 5; i++) await small.write([`r${i}`]);
  assert.equal(fs2.files.get('/d/flows.log'), 'r0\nr1\nr2\nr3\nr4\n');
  await small.write(['x'.repeat(200)]);
  assert.deepEqual([...fs2.files.keys()], ['/d/flows.log'], 'maxFiles 1: no history');
  assert.equal(fs2.files.get('/d/flows.log'), 'x'.repeat(200) + '\n');
});
