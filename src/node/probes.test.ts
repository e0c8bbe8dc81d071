import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseBirdProtocols } from '../bgp/status.js';
import type { HealthCheck } from './cli.js';
import { birdReadiness, felixHealthURL, runHealthChecks } from './probes.js';
import type { ProbePorts } from './probes.js';

// v4: Mesh_192_0_2_2 Established, Global_192_0_2_99 Active; v6: Mesh_2001_db8__2 Established, Node_2001_db8__63 Connect.
const SHOW_ALL = readFileSync(fileURLToPath(new URL('../../../src/bgp/testdata/show-protocols-all.txt', import.meta.url)), 'utf8');
const STATUS = 'BIRD 2.0.12 ready.\nBIRD 2.0.12\nRouter ID is 192.0.2.1\nCurrent server time is 2026-11-23 06:20:00\nDaemon is up and running\n';
const GR = 'BIRD 2.0.12 ready.\nBIRD 2.0.12\nGraceful restart recovery in progress\n  Waiting for 1 channels to recover\nDaemon is up and running\n';

const T0 = new Date('2026-11-23T06:18:19Z');

function ports(o: { http?: Record<string, number | Error>; protocols?: string | null; status?: string | null; started?: Date | null; nowMs?: number } = {}): ProbePorts & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    async httpGet(url) {
      calls.push(`GET ${url}`);
      const r = o.http?.[url];
      if (r === undefined) throw Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } });
      if (r instanceof Error) throw r;
      return r;
    },
    async birdc(socket, command) {
      calls.push(`birdc ${socket} ${command.join(' ')}`);
      const text = command[1] === 'status' ? o.status : o.protocols;
      return text === null || text === undefined ? { ok: false, text: 'Unable to connect to server control socket (/run/x/bird/bird.ctl): No such file or directory' } : { ok: true, text };
    },
    async mtime() {
      return o.started === null ? undefined : (o.started ?? T0);
    },
    now: () => new Date(T0.getTime() + (o.nowMs ?? 5000)),
  };
}

const run = (checks: HealthCheck[], p: ProbePorts, env: Record<string, string> = {}, thresholdMs = 30000) => runHealthChecks(checks, { env, runDir: '/run/x', thresholdMs, ports: p });

test('felix probes: FELIX_HEALTHHOST/PORT from the environment (defaults localhost:9099), 2xx/3xx ok', async () => {
  assert.equal(felixHealthURL({}, 'readiness'), 'http://localhost:9099/readiness');
  assert.equal(felixHealthURL({ FELIX_HEALTHHOST: '127.0.0.1', FELIX_HEALTHPORT: '29099' }, 'liveness'), 'http://127.0.0.1:29099/liveness');
  assert.equal(felixHealthURL({ FELIX_HEALTHHOST: '::1' }, 'liveness'), 'http://[::1]:9099/liveness');
  assert.throws(() => felixHealthURL({ FELIX_HEALTHPORT: 'http' }, 'liveness'), /FELIX_HEALTHPORT="http" is not a port number/);

  const ok = await run(['felix-ready'], ports({ http: { 'http://localhost:9099/readiness': 200 } }));
  assert.deepEqual(ok, { ok: true, line: 'calico/node is ready: Felix is ready' });
  const unready = await run(['felix-ready'], ports({ http: { 'http://localhost:9099/readiness': 503 } }));
  assert.deepEqual(unready, { ok: false, line: 'calico/node is not ready: felix is not ready: readiness probe reporting 503' });
  const down = await run(['felix-live'], ports());
  assert.equal(down.ok, false);
  assert.equal(down.line, 'calico/node is not ready: Felix is not live: GET http://localhost:9099/liveness: ECONNREFUSED (is calico-node running with FELIX_HEALTHENABLED=true?)');
});

test('bird probes: liveness is BIRD answering on <run>/bird/bird.ctl', async () => {
  const p = ports({ status: STATUS });
  assert.deepEqual(await run(['bird-live', 'bird6-live'], p), { ok: true, line: 'calico/node is live: bird is live; bird6 is live' });
  assert.deepEqual(p.calls, ['birdc /run/x/bird/bird.ctl show status', 'birdc /run/x/bird/bird.ctl show status']);
  const dead = await run(['bird-live'], ports({ status: null }));
  assert.equal(dead.ok, false);
  assert.match(dead.line, /^calico\/node is not ready: bird is not live: BIRD does not answer on \/run\/x\/bird\/bird\.ctl: Unable to connect/);
  const odd = await run(['bird-live'], ports({ status: 'hello' }));
  assert.equal(odd.line, 'calico/node is not ready: bird is not live: bad response from BIRD: hello');
});

const sessions = parseBirdProtocols(SHOW_ALL);

const READINESS: Array<{ name: string; family: 4 | 6; sinceStartMs: number; gr?: boolean; text?: string; ready: boolean; reason: RegExp }> = [
  { name: 'just started, one IPv4 session not up', family: 4, sinceStartMs: 5000, ready: false, reason: /^BGP not established with 192\.0\.2\.99$/ },
  { name: 'after the threshold, one IPv4 session up is enough', family: 4, sinceStartMs: 60000, ready: true, reason: /1 of 2 BGP session/ },
  { name: 'just started, one IPv6 session connecting', family: 6, sinceStartMs: 5000, ready: false, reason: /^BGP not established with 2001:db8::63$/ },
  { name: 'no peers at all is ready', family: 4, sinceStartMs: 5000, text: 'BIRD 2.0.12 ready.\n', ready: true, reason: /no BGP peers/ },
  { name: 'after the threshold with no session up', family: 4, sinceStartMs: 60000, text: SHOW_ALL.replace(/Established/g, 'Active'), ready: false, reason: /BGP not established with 192\.0\.2\.2,192\.0\.2\.99/ },
  { name: 'just started, all up but a graceful restart running', family: 4, sinceStartMs: 5000, gr: true, text: SHOW_ALL.replace(/Active {8}Socket: No route to host/, 'Established').replace(/BGP state:          Active/, 'BGP state:          Established'), ready: false, reason: /graceful restart in progress/ },
];

for (const c of READINESS) {
  test(`birdReadiness: ${c.name}`, () => {
    const got = birdReadiness(c.text ? parseBirdProtocols(c.text) : sessions, { family: c.family, sinceStartMs: c.sinceStartMs, thresholdMs: 30000, gracefulRestart: c.gr ?? false });
    assert.equal(got.ready, c.ready, got.reason);
    assert.match(got.reason, c.reason);
  });
}

test('bird readiness probes: start-up time from <run>/nodename; -threshold-time moves the cut-over; the first failure is reported', async () => {
  const within = await run(['bird-ready'], ports({ protocols: SHOW_ALL, status: STATUS, nowMs: 5000 }));
  assert.deepEqual(within, { ok: false, line: 'calico/node is not ready: BIRD is not ready: BGP not established with 192.0.2.99' });
  const after = await run(['bird-ready'], ports({ protocols: SHOW_ALL, status: STATUS, nowMs: 5000 }), {}, 1000);
  assert.deepEqual(after, { ok: true, line: 'calico/node is ready: BIRD is ready (1 of 2 BGP session(s) established)' });
  const v6 = await run(['bird6-ready'], ports({ protocols: SHOW_ALL, status: STATUS }));
  assert.equal(v6.line, 'calico/node is not ready: BIRD6 is not ready: BGP not established with 2001:db8::63');
  const gr = await run(['bird-ready'], ports({ protocols: 'BIRD 2.0.12 ready.\n', status: GR }));
  assert.equal(gr.ok, true, 'no peers: ready even during a graceful restart (calico/node checks GR only with peers)');
  const noFile = await run(['bird-ready'], ports({ protocols: SHOW_ALL, status: STATUS, started: null }));
  assert.match(noFile.line, /BIRD is not ready: failed to stat\(\) nodename file \/run\/x\/nodename \(calico-node writes it at start-up/);
  const noBird = await run(['bird-ready'], ports({ protocols: null, status: null }));
  assert.match(noBird.line, /BIRD is not ready: error querying BIRD: unable to connect to BIRDv4 socket \/run\/x\/bird\/bird\.ctl/);
  const both = await run(['felix-ready', 'bird-ready'], ports({ http: { 'http://localhost:9099/readiness': 503 }, protocols: SHOW_ALL, status: STATUS }));
  assert.match(both.line, /felix is not ready: readiness probe reporting 503/);
});
