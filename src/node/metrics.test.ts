import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MetricsRegistry } from './metrics.js';
import { createLogger, parseLogLevel } from './log.js';

test('metrics render in Prometheus text format', () => {
  const m = new MetricsRegistry();
  m.declare('a_total', 'A counter.', 'counter');
  m.declare('h_seconds', 'A histogram.', 'histogram', [0.1, 1]);
  m.inc('a_total', 2, { kind: 'x"y' });
  m.observe('h_seconds', 0.05);
  m.observe('h_seconds', 0.5);
  assert.equal(
    m.render(),
    [
      '# HELP a_total A counter.',
      '# TYPE a_total counter',
      'a_total{kind="x\\"y"} 2',
      '# HELP h_seconds A histogram.',
      '# TYPE h_seconds histogram',
      'h_seconds_bucket{le="0.1"} 1',
      'h_seconds_bucket{le="1"} 2',
      'h_seconds_bucket{le="+Inf"} 2',
      'h_seconds_sum 0.55',
      'h_seconds_count 2',
      '',
    ].join('\n'),
  );
  assert.throws(() => m.set('undeclared', 1));
});

test('logs are JSON lines filtered by level', () => {
  const lines: string[] = [];
  const log = createLogger({ level: parseLogLevel('warning'), sink: (l) => lines.push(l), now: () => new Date(0) });
  log.info('hidden');
  log.child({ component: 'calc' }).error('shown', { error: new Error('boom') });
  assert.equal(lines.length, 1);
  assert.deepEqual(JSON.parse(lines[0]!), { time: '1970-01-01T00:00:00.000Z', level: 'error', msg: 'shown', component: 'calc', error: 'boom' });
  assert.equal(parseLogLevel('PANIC'), 'fatal');
  assert.equal(parseLogLevel(undefined), 'info');
});
