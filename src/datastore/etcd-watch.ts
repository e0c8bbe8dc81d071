// One etcd watch over the JSON gateway's streaming /v3/watch, kept alive across
// connection loss. States: connecting -> streaming -> (lost) backoff ->
// connecting ... -> ended (cancelled, compacted, or gave up). Invariant: `next`
// is the first revision not yet delivered; every (re)connection asks for
// exactly that, so a reconnect neither loses nor repeats a revision. etcd may
// pack several revisions into one response (history replay): they are split
// and delivered one revision per onEvents call.
import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { CalicoError, CompactedError, UnavailableError } from '../base/errors.js';
import type { KVEvent, KVWatchHandlers } from './kv.js';
import { fromWire, type WireKV } from './etcd-wire.js';

/** What a watch needs from the client: where to connect and with which credentials. */
export interface EtcdWatchTransport {
  endpoint(): URL;
  rotate(): void;
  headers(refresh?: boolean): Promise<Record<string, string>>;
  tlsOptions(): { ca?: string | Buffer; cert?: string | Buffer; key?: string | Buffer };
  isClosed(): boolean;
  probe(endpoint: URL): Promise<boolean>;
}

interface WatchResult {
  header?: { revision?: string };
  created?: boolean;
  canceled?: boolean;
  compact_revision?: string;
  cancel_reason?: string;
  events?: { type?: 'PUT' | 'DELETE'; kv: WireKV; prev_kv?: WireKV }[];
}

type StreamState = 'connecting' | 'streaming' | 'backoff' | 'ended';

const GRPC_UNAUTHENTICATED = 16;

export class EtcdWatchStream {
  private state: StreamState = 'connecting';
  private next: number;
  private req: ClientRequest | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private failures = 0;
  private lostSince: number | undefined;
  private liveness: ReturnType<typeof setInterval> | undefined;
  private heardAt = 0;
  private probing = false;
  private reported: 'connected' | 'reconnecting' | undefined;
  private refreshToken = false;

  constructor(
    private readonly transport: EtcdWatchTransport,
    private readonly opts: {
      body: { create_request: Record<string, unknown> };
      fromRevision: number;
      handlers: KVWatchHandlers;
      backoff: { initialMs: number; maxMs: number };
      giveUpAfterMs?: number;
      /** Silence longer than this triggers a liveness probe of the endpoint. */
      livenessMs: number;
      onEnd(): void;
    },
  ) {
    this.next = opts.fromRevision;
  }

  start(): void {
    void this.connect();
  }

  cancel(): void {
    this.end();
  }

  private end(err?: Error): void {
    if (this.state === 'ended') return;
    this.state = 'ended';
    if (this.timer) clearTimeout(this.timer);
    this.stopLiveness();
    this.req?.destroy();
    this.opts.onEnd();
    if (err) this.opts.handlers.onError(err);
  }

  private async connect(): Promise<void> {
    if (this.state === 'ended') return;
    if (this.transport.isClosed()) return this.end();
    this.state = 'connecting';
    let headers: Record<string, string>;
    try {
      headers = await this.transport.headers(this.refreshToken);
      this.refreshToken = false;
    } catch (err) {
      if (err instanceof CalicoError && err.kind === 'invalid-argument') return this.end(err); // bad credentials: retrying will not help
      return this.lost();
    }
    if (this.state !== 'connecting') return;
    const body = { create_request: { ...this.opts.body.create_request, start_revision: String(Math.max(this.next, 0)) } };
    const payload = JSON.stringify(body);
    const url = new URL('/v3/watch', this.transport.endpoint());
    const options = {
      method: 'POST',
      agent: false as const,
      headers: { ...headers, 'content-length': Buffer.byteLength(payload) },
      ...(url.protocol === 'https:' ? this.transport.tlsOptions() : {}),
    };
    const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, options, (res) => this.onResponse(req, res));
    this.req = req;
    // A connection that never answers is as lost as one that is refused.
    req.setTimeout(10_000, () => this.state === 'connecting' && req.destroy(new Error('watch connection timed out')));
    req.on('socket', (s) => s.setKeepAlive(true, 5_000));
    req.on('error', () => this.req === req && this.lost());
    req.end(payload);
  }

  private onResponse(req: ClientRequest, res: IncomingMessage): void {
    req.setTimeout(0); // streaming: silence is normal, but long silence is checked (startLiveness)
    this.startLiveness(req, new URL(this.transport.endpoint().href));
    let buffer = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      this.heardAt = Date.now();
      buffer += chunk;
      let nl: number;
      while ((nl = buffer.indexOf('\n')) !== -1 && this.req === req) {
        const line = buffer.slice(0, nl).trim();
        buffer = buffer.slice(nl + 1);
        if (line) this.onLine(line, res.statusCode ?? 0);
      }
    });
    res.on('end', () => {
      if (buffer.trim() && this.req === req) this.onLine(buffer.trim(), res.statusCode ?? 0);
      if (this.req === req) this.lost();
    });
    res.on('error', () => this.req === req && this.lost());
  }

  private onLine(line: string, status: number): void {
    let msg: { result?: WatchResult; error?: { grpc_code?: number; http_code?: number; message?: string }; code?: number; message?: string };
    try {
      msg = JSON.parse(line);
    } catch {
      return this.lost();
    }
    const error = msg.error ?? (status !== 200 ? { grpc_code: msg.code, message: msg.message } : undefined);
    if (error) {
      if (error.grpc_code === GRPC_UNAUTHENTICATED) this.refreshToken = true;
      return this.lost();
    }
    const result = msg.result;
    if (!result) return;
    if (result.compact_revision && result.canceled) {
      return this.end(new CompactedError(this.next, Number(result.compact_revision)));
    }
    if (result.canceled) {
      // etcd shutting down, or the token was refused (etcd answers "created, canceled" with the
      // reason only as text, e.g. after a restart forgot its tokens): get a fresh token and reconnect.
      this.refreshToken = true;
      return this.lost();
    }
    if (result.created) {
      // From "now" (0): pin the revision so a reconnect continues exactly here.
      if (this.next <= 0) this.next = Number(result.header?.revision ?? 0) + 1;
      this.state = 'streaming';
      this.failures = 0;
      this.lostSince = undefined;
      this.report('connected');
    }
    if (result.events?.length) this.deliver(result.events);
  }

  private deliver(events: NonNullable<WatchResult['events']>): void {
    let batch: KVEvent[] = [];
    let batchRev = 0;
    const flush = (): void => {
      if (batch.length > 0 && this.state !== 'ended') {
        this.next = batchRev + 1;
        this.opts.handlers.onEvents(batch, batchRev);
      }
      batch = [];
    };
    for (const e of events) {
      const rev = Number(e.kv.mod_revision ?? 0);
      if (rev < this.next) continue; // never deliver a revision twice
      if (rev !== batchRev) flush();
      batchRev = rev;
      if (e.type === 'DELETE') {
        const ev: KVEvent = { type: 'delete', key: fromWire(e.kv).key, modRevision: rev };
        if (e.prev_kv) ev.prev = fromWire(e.prev_kv);
        batch.push(ev);
      } else {
        batch.push({ type: 'put', kv: fromWire(e.kv) });
      }
    }
    flush();
  }

  /** The connection failed or ended: back off and reconnect from `next`, or give up. */
  private lost(): void {
    if (this.state === 'ended' || this.state === 'backoff') return;
    const req = this.req;
    this.req = undefined;
    req?.destroy();
    this.state = 'backoff';
    this.stopLiveness();
    this.lostSince ??= Date.now();
    this.report('reconnecting');
    if (this.opts.giveUpAfterMs !== undefined && Date.now() - this.lostSince > this.opts.giveUpAfterMs) {
      return this.end(new UnavailableError(`etcd watch: no connection for ${this.opts.giveUpAfterMs} ms, giving up`));
    }
    this.transport.rotate();
    const { initialMs, maxMs } = this.opts.backoff;
    const delay = Math.min(maxMs, initialMs * 2 ** this.failures++);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.connect();
    }, delay);
  }

  /** While streaming: after `livenessMs` of silence, probe the endpoint; no answer = the connection is dead. */
  private startLiveness(req: ClientRequest, endpoint: URL): void {
    this.stopLiveness();
    this.heardAt = Date.now();
    const every = this.opts.livenessMs;
    this.liveness = setInterval(() => {
      if (this.req !== req || this.probing || Date.now() - this.heardAt < every) return;
      this.probing = true;
      void this.transport.probe(endpoint).then((alive) => {
        this.probing = false;
        if (alive) this.heardAt = Date.now();
        else if (this.req === req) this.lost();
      });
    }, Math.max(10, Math.floor(every / 2)));
    this.liveness.unref?.();
  }

  private stopLiveness(): void {
    if (this.liveness) clearInterval(this.liveness);
    this.liveness = undefined;
  }

  private report(status: 'connected' | 'reconnecting'): void {
    if (this.reported === status) return;
    // The first 'connected' is not news; only a recovery is.
    const first = this.reported === undefined;
    this.reported = status;
    if (!(first && status === 'connected')) this.opts.handlers.onStatus?.(status);
  }
}
