import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CalcUpdate } from '../calc/output.js';
import { FakeClock } from '../dataplane/fakes.js';
import type { ApplyMetrics } from '../dataplane/apply-loop.js';
import { DataplaneReloader } from './dataplane-reloader.js';
import type { Dataplane, DataplaneStatus } from './dataplane.js';
import type { FelixSettings } from './config.js';
import { effectiveFelixSettings } from './config.js';
import { createLogger } from './log.js';

/** A dataplane whose stop and first round the test releases by hand. */
class ScriptedDataplane implements Dataplane {
  readonly batches: CalcUpdate[][] = [];
  stopped = false;
  programmed = false;
  private releaseStop: (() => void) | undefined;
  holdStop = false;
  metrics: ApplyMetrics = { rounds: 3, resyncs: 1, lastRoundMs: 1, roundDurationsMs: [1, 1, 1], failures: { policy: 1, route: 0, neighbor: 0, sysctl: 0, conntrack: 0, cleanup: 0 }, endpoints: 1, policies: 1, interfaceRefreshes: 2, routeRefreshes: 1, retiredObjects: 0, fullReconciles: 1, lastRoundObjects: 0 };
  constructor(readonly settings: FelixSettings) {}
  apply(updates: CalcUpdate[]): void {
    if (this.stopped) throw new Error('apply after stop');
    this.batches.push(updates);
  }
  status(): DataplaneStatus {
    return { state: this.stopped ? 'stopped' : 'idle', healthy: true, programmed: this.programmed, pendingFailures: 0, metrics: this.metrics };
  }
  stop(): Promise<void> {
    this.stopped = true;
    if (!this.holdStop) return Promise.resolve();
    return new Promise((resolve) => (this.releaseStop = resolve));
  }
  release(): void {
    this.releaseStop?.();
  }
}

const settings = (over: Record<string, unknown>) => effectiveFelixSettings({ global: over });
const STATE: CalcUpdate[] = [{ type: 'profileUpserted', profile: { id: 'kns.default', inboundRules: [], outboundRules: [] } }, { type: 'inSync' }];

function setup(opts: { failMake?: (s: FelixSettings) => boolean } = {}) {
  const clock = new FakeClock();
  const built: ScriptedDataplane[] = [];
  const lines: string[] = [];
  const reloader = new DataplaneReloader({
    make: (s) => {
      if (opts.failMake?.(s)) throw new Error('cannot build');
      built.push(new ScriptedDataplane(s));
      return built.at(-1)!;
    },
    key: (s) => String(s.defaultEndpointToHostAction),
    currentState: () => STATE,
    clock,
    log: createLogger({ level: 'debug', sink: (l) => lines.push(l), now: () => new Date(0) }),
    settleMs: 500,
  });
  const step = async (ms: number) => {
    clock.advance(ms);
    await reloader.settled();
  };
  return { clock, built, lines, reloader, step };
}

test('a burst of changes within the settle delay is one rebuild, with the last settings; the new dataplane gets the whole state', async () => {
  const t = setup();
  t.reloader.start(settings({ defaultEndpointToHostAction: 'Drop' }));
  t.built[0]!.programmed = true;
  t.reloader.settingsChanged(settings({ defaultEndpointToHostAction: 'Accept' }));
  await t.step(300);
  t.reloader.settingsChanged(settings({ defaultEndpointToHostAction: 'Return' }));
  await t.step(300);
  assert.equal(t.built.length, 1, 'the settle delay restarts with each change');
  t.reloader.settingsChanged(settings({ defaultEndpointToHostAction: 'Accept' }));
  await t.step(500);
  assert.equal(t.built.length, 2);
  assert.equal(t.built[1]!.settings.defaultEndpointToHostAction, 'Accept');
  assert.equal(t.built[0]!.stopped, true);
  assert.deepEqual(t.built[1]!.batches, [STATE]);
  assert.equal(t.reloader.counters.rebuilds, 1);
});

test('a change that leaves the dataplane key equal rebuilds nothing (e.g. only the log level)', async () => {
  const t = setup();
  t.reloader.start(settings({ defaultEndpointToHostAction: 'Drop' }));
  t.reloader.settingsChanged(settings({ defaultEndpointToHostAction: 'Drop', logSeverityScreen: 'Debug' }));
  await t.step(1000);
  assert.equal(t.built.length, 1);
  assert.equal(t.built[0]!.stopped, false);
});

test('a change during a rebuild is applied by one more rebuild after it; batches meanwhile are not sent to a stopping dataplane', async () => {
  const t = setup();
  t.reloader.start(settings({ defaultEndpointToHostAction: 'Drop' }));
  t.built[0]!.holdStop = true;
  t.built[0]!.programmed = true;
  t.reloader.settingsChanged(settings({ defaultEndpointToHostAction: 'Accept' }));
  t.clock.advance(500);
  assert.equal(t.reloader.status().state, 'rebuilding');
  assert.equal(t.reloader.status().programmed, true, 'the kernel is still programmed: readiness holds');
  t.reloader.apply([{ type: 'policyRemoved', id: 'x' }]); // must not reach the stopping dataplane (it would throw)
  t.reloader.settingsChanged(settings({ defaultEndpointToHostAction: 'Return' }));
  t.reloader.settingsChanged(settings({ defaultEndpointToHostAction: 'Drop' }));
  t.built[0]!.release();
  await t.reloader.settled();
  assert.equal(t.built.length, 2);
  t.built[1]!.holdStop = false;
  await t.step(500);
  assert.deepEqual(t.built.map((d) => d.settings.defaultEndpointToHostAction), ['Drop', 'Accept', 'Drop']);
  assert.equal(t.reloader.counters.rebuilds, 2);
  assert.equal(t.built[2]!.stopped, false);
});

test('a dataplane that cannot be built from the new settings leaves the current one running, loudly', async () => {
  const t = setup({ failMake: (s) => String(s.defaultEndpointToHostAction) === 'Accept' });
  t.reloader.start(settings({ defaultEndpointToHostAction: 'Drop' }));
  t.reloader.settingsChanged(settings({ defaultEndpointToHostAction: 'Accept' }));
  await t.step(500);
  assert.equal(t.built.length, 1);
  assert.equal(t.built[0]!.stopped, false);
  assert.equal(t.reloader.counters.rebuildFailures, 1);
  assert.ok(t.lines.some((l) => /"level":"error".*cannot build a dataplane from the new FelixConfiguration; the current one keeps running/.test(l)));
});

test('metrics stay monotonic across rebuilds; stop stops the current dataplane and cancels a pending rebuild', async () => {
  const t = setup();
  t.reloader.start(settings({ defaultEndpointToHostAction: 'Drop' }));
  t.reloader.settingsChanged(settings({ defaultEndpointToHostAction: 'Accept' }));
  await t.step(500);
  const m = t.reloader.status().metrics!;
  assert.equal(m.rounds, 6);
  assert.equal(m.failures.policy, 2);
  assert.equal(m.interfaceRefreshes, 4);
  t.reloader.settingsChanged(settings({ defaultEndpointToHostAction: 'Drop' }));
  await t.reloader.stop();
  await t.step(1000);
  assert.equal(t.built.length, 2);
  assert.equal(t.built[1]!.stopped, true);
  assert.equal(t.clock.pendingTimers(), 0);
});
