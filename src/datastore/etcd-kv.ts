// KVStore over etcd v3's JSON gateway (grpc-gateway, paths /v3/... in etcd 3.4),
// with node's http/https only: no gRPC dependency. A thin driver: every method
// is one HTTP request (writes are one txn, so CAS is atomic in etcd).
// Gateway facts this relies on: keys/values are base64; int64 fields are JSON
// strings; fields at their default value are omitted (no `kvs` = empty, no
// `type` = PUT, no `succeeded` = false); errors come back as non-200 with
// {code (gRPC code), message}. Watches are a streamed response of one JSON
// object per line ({result: WatchResponse}).
import { request as httpRequest, Agent as HttpAgent, type IncomingMessage, type ClientRequest } from 'node:http';
import { request as httpsRequest, Agent as HttpsAgent } from 'node:https';
import { AlreadyExistsError, CalicoError, CompactedError, ConflictError, NotFoundError, UnavailableError } from '../base/errors.js';
import type { KVList, KVPair, KVStore, KVWatch, KVWatchHandlers } from './kv.js';
import { EtcdWatchStream, type EtcdWatchTransport } from './etcd-watch.js';
import { b64, fromWire, prefixEnd, type WireKV } from './etcd-wire.js';

export interface EtcdTls {
  /** PEM contents (not file names: config.ts reads the files). */
  ca?: string | Buffer;
  cert?: string | Buffer;
  key?: string | Buffer;
}

export interface EtcdKVOptions {
  /** e.g. ['http://127.0.0.1:2379']; several = fail over between them. */
  endpoints: string[];
  tls?: EtcdTls;
  username?: string;
  password?: string;
  /** Every request (and a watch's connection setup) times out after this. Default 10 s. */
  requestTimeoutMs?: number;
  /** Watch reconnection backoff: doubles from initialMs to maxMs. Default 100 ms .. 3 s. */
  watchBackoff?: { initialMs: number; maxMs: number };
  /** Give a watch up (onError(UnavailableError)) after this long without a connection. Default: never. */
  watchGiveUpAfterMs?: number;
  /**
   * A watch that has received nothing for this long checks that its endpoint still
   * answers (one small request); if not, it reconnects. Catches connections that die
   * silently (a black-holed network) rather than with a reset. Default 30 s.
   */
  watchLivenessMs?: number;
}

interface WireHeader {
  revision?: string;
}

interface RangeResponse {
  header: WireHeader;
  kvs?: WireKV[];
}

interface TxnResponse {
  header: WireHeader;
  succeeded?: boolean;
  responses?: {
    response_put?: { prev_kv?: WireKV };
    response_range?: { kvs?: WireKV[] };
    response_delete_range?: { prev_kvs?: WireKV[] };
  }[];
}

const GRPC_CANCELED = 1; // "the client connection is closing": etcd shutting down
const GRPC_OUT_OF_RANGE = 11; // "required revision has been compacted"
const GRPC_UNAVAILABLE = 14;
const GRPC_DEADLINE_EXCEEDED = 4;
const GRPC_UNAUTHENTICATED = 16; // invalid or expired auth token

/** An error etcd (or the gateway) answered with. */
class EtcdServerError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly httpStatus: number,
  ) {
    super(message);
  }
}

/** Connection-level failures: nothing was processed when the connection was refused. */
const REFUSED = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

export class EtcdKV implements KVStore, EtcdWatchTransport {
  private readonly endpoints: URL[];
  private current = 0;
  private readonly agent: HttpAgent;
  private readonly timeoutMs: number;
  private token: string | undefined;
  private authenticating: Promise<void> | undefined;
  private readonly watches = new Set<EtcdWatchStream>();
  private closed = false;

  constructor(private readonly opts: EtcdKVOptions) {
    if (opts.endpoints.length === 0) throw new CalicoError('invalid-argument', 'etcd: no endpoints given (set ETCD_ENDPOINTS)');
    this.endpoints = opts.endpoints.map((e) => new URL(e));
    this.timeoutMs = opts.requestTimeoutMs ?? 10_000;
    const secure = this.endpoints.some((e) => e.protocol === 'https:');
    this.agent = secure
      ? new HttpsAgent({ keepAlive: true, maxSockets: 32, ...this.tlsOptions() })
      : new HttpAgent({ keepAlive: true, maxSockets: 32 });
  }

  async get(key: string): Promise<KVPair | undefined> {
    const res = await this.call<RangeResponse>('/v3/kv/range', { key: b64(key) }, { idempotent: true });
    return res.kvs?.[0] && fromWire(res.kvs[0]);
  }

  async list(prefix: string, opts: { revision?: number } = {}): Promise<KVList> {
    const body: Record<string, unknown> = { key: b64(prefix), range_end: prefixEnd(prefix), sort_order: 'ASCEND', sort_target: 'KEY' };
    if (opts.revision !== undefined) body.revision = String(opts.revision);
    try {
      const res = await this.call<RangeResponse>('/v3/kv/range', body, { idempotent: true });
      return { pairs: (res.kvs ?? []).map(fromWire), revision: Number(res.header.revision ?? 0) };
    } catch (err) {
      if (err instanceof EtcdServerError && err.code === GRPC_OUT_OF_RANGE && opts.revision !== undefined) {
        // etcd does not say where the compaction point is; the requested revision is gone, that is what matters.
        throw new CompactedError(opts.revision, opts.revision + 1);
      }
      throw err;
    }
  }

  async create(key: string, value: string): Promise<KVPair> {
    const res = await this.call<TxnResponse>('/v3/kv/txn', {
      compare: [{ key: b64(key), target: 'VERSION', result: 'EQUAL', version: '0' }],
      success: [{ request_put: { key: b64(key), value: b64(value) } }],
      failure: [],
    });
    if (!res.succeeded) throw new AlreadyExistsError(key);
    const rev = Number(res.header.revision);
    return { key, value, createRevision: rev, modRevision: rev, version: 1 };
  }

  async update(key: string, value: string, opts: { modRevision?: number } = {}): Promise<KVPair> {
    const res = await this.call<TxnResponse>('/v3/kv/txn', {
      compare: [this.guard(key, opts.modRevision)],
      success: [{ request_put: { key: b64(key), value: b64(value), prev_kv: true } }],
      failure: [{ request_range: { key: b64(key) } }],
    });
    if (!res.succeeded) throw this.casFailure(key, res);
    const prev = fromWire(res.responses?.[0]?.response_put?.prev_kv ?? { key: b64(key) });
    const rev = Number(res.header.revision);
    return { key, value, createRevision: prev.createRevision, modRevision: rev, version: prev.version + 1 };
  }

  async delete(key: string, opts: { modRevision?: number } = {}): Promise<KVPair> {
    const res = await this.call<TxnResponse>('/v3/kv/txn', {
      compare: [this.guard(key, opts.modRevision)],
      success: [{ request_delete_range: { key: b64(key), prev_kv: true } }],
      failure: [{ request_range: { key: b64(key) } }],
    });
    if (!res.succeeded) throw this.casFailure(key, res);
    const prev = res.responses?.[0]?.response_delete_range?.prev_kvs?.[0];
    if (!prev) throw new NotFoundError(key); // deleted by someone else between compare and delete cannot happen in a txn; defensive
    return fromWire(prev);
  }

  watch(prefix: string, fromRevision: number, handlers: KVWatchHandlers): KVWatch {
    const stream = new EtcdWatchStream(this, {
      body: { create_request: { key: b64(prefix), range_end: prefixEnd(prefix), start_revision: String(fromRevision), prev_kv: true } },
      fromRevision,
      handlers,
      backoff: this.opts.watchBackoff ?? { initialMs: 100, maxMs: 3000 },
      ...(this.opts.watchGiveUpAfterMs !== undefined && { giveUpAfterMs: this.opts.watchGiveUpAfterMs }),
      livenessMs: this.opts.watchLivenessMs ?? 30_000,
      onEnd: () => this.watches.delete(stream),
    });
    this.watches.add(stream);
    stream.start();
    return { cancel: () => stream.cancel() };
  }

  async revision(): Promise<number> {
    const res = await this.call<RangeResponse>('/v3/kv/range', { key: b64('\0'), count_only: true }, { idempotent: true });
    return Number(res.header.revision ?? 0);
  }

  /** Compact history up to `revision` (used by tests and the benchmark; Calico leaves this to etcd's auto-compaction). */
  async compact(revision: number): Promise<void> {
    await this.call('/v3/kv/compaction', { revision: String(revision), physical: true });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const w of [...this.watches]) w.cancel();
    this.agent.destroy();
  }

  /** CAS guard: with modRevision, "still that revision"; without, "exists" (an update never creates). */
  private guard(key: string, modRevision: number | undefined): Record<string, string> {
    return modRevision === undefined
      ? { key: b64(key), target: 'VERSION', result: 'GREATER', version: '0' }
      : { key: b64(key), target: 'MOD', result: 'EQUAL', mod_revision: String(modRevision) };
  }

  private casFailure(key: string, res: TxnResponse): Error {
    const current = res.responses?.[0]?.response_range?.kvs?.[0];
    return current ? new ConflictError<KVPair>(key, fromWire(current)) : new NotFoundError(key);
  }

  // ---- transport (also used by EtcdWatchStream) ----

  tlsOptions(): { ca?: string | Buffer; cert?: string | Buffer; key?: string | Buffer } {
    const t = this.opts.tls ?? {};
    return { ...(t.ca && { ca: t.ca }), ...(t.cert && { cert: t.cert }), ...(t.key && { key: t.key }) };
  }

  /** The endpoint to use now; rotate() moves to the next after a connection failure. */
  endpoint(): URL {
    return this.endpoints[this.current % this.endpoints.length]!;
  }

  rotate(): void {
    this.current = (this.current + 1) % this.endpoints.length;
  }

  /** Does `endpoint` answer a trivial read within the request timeout? (watch liveness) */
  async probe(endpoint: URL): Promise<boolean> {
    try {
      await this.once(endpoint, '/v3/kv/range', { key: b64('\0'), count_only: true }, await this.headers());
      return true;
    } catch (err) {
      return err instanceof EtcdServerError && err.code !== GRPC_UNAVAILABLE; // an answer, even an error, is life
    }
  }

  isClosed(): boolean {
    return this.closed;
  }

  /** Headers for a request: JSON, plus the auth token when we have credentials. Authenticates if needed. */
  async headers(refresh = false): Promise<Record<string, string>> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.opts.username === undefined) return headers;
    if (refresh) this.token = undefined;
    if (this.token === undefined) await this.authenticate();
    return { ...headers, authorization: this.token! };
  }

  private async authenticate(): Promise<void> {
    // One authentication at a time: concurrent callers share it.
    this.authenticating ??= (async () => {
      try {
        const res = await this.send<{ token: string }>('/v3/auth/authenticate', { name: this.opts.username, password: this.opts.password ?? '' }, {
          headers: { 'content-type': 'application/json' },
          idempotent: true,
        });
        this.token = res.token;
      } finally {
        this.authenticating = undefined;
      }
    })();
    await this.authenticating;
  }

  /** One request with auth (re-authenticating once if the token expired or etcd restarted) and error mapping. */
  private async call<T>(path: string, body: unknown, opts: { idempotent?: boolean } = {}): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.send<T>(path, body, { headers: await this.headers(attempt > 0), idempotent: opts.idempotent ?? false });
      } catch (err) {
        if (err instanceof EtcdServerError && err.code === GRPC_UNAUTHENTICATED && attempt === 0 && this.opts.username !== undefined) continue;
        throw mapError(err, path);
      }
    }
  }

  /** Sends to the current endpoint; on a refused connection (or any failure of an idempotent read) tries the others. */
  private async send<T>(path: string, body: unknown, opts: { headers: Record<string, string>; idempotent: boolean }): Promise<T> {
    let lastError: unknown;
    for (let tried = 0; tried < this.endpoints.length; tried++) {
      try {
        return await this.once<T>(this.endpoint(), path, body, opts.headers);
      } catch (err) {
        lastError = err;
        if (err instanceof EtcdServerError) throw err;
        const code = (err as NodeJS.ErrnoException).code ?? '';
        if (!REFUSED.has(code) && !opts.idempotent) throw err;
        this.rotate();
      }
    }
    throw lastError;
  }

  private once<T>(endpoint: URL, path: string, body: unknown, headers: Record<string, string>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const url = new URL(path, endpoint);
      const payload = JSON.stringify(body);
      const options = { method: 'POST', agent: this.agent, headers: { ...headers, 'content-length': Buffer.byteLength(payload) } };
      const req: ClientRequest = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, options, (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: { code?: number; message?: string; error?: string } & Record<string, unknown>;
          try {
            parsed = JSON.parse(text);
          } catch {
            reject(new EtcdServerError(res.statusCode === 503 ? GRPC_UNAVAILABLE : 2, `HTTP ${res.statusCode}: ${text.slice(0, 200)}`, res.statusCode ?? 0));
            return;
          }
          if (res.statusCode === 200) resolve(parsed as T);
          else reject(new EtcdServerError(Number(parsed.code ?? 2), String(parsed.message ?? parsed.error ?? text), res.statusCode ?? 0));
        });
      });
      req.setTimeout(this.timeoutMs, () => req.destroy(Object.assign(new Error(`etcd request ${path} timed out after ${this.timeoutMs} ms`), { code: 'ETIMEDOUT' })));
      req.on('error', reject);
      req.end(payload);
    });
  }
}

/** Wire/transport errors -> the project's typed errors. */
export function mapError(err: unknown, what: string): Error {
  if (err instanceof CalicoError) return err;
  if (err instanceof EtcdServerError) {
    if (err.code === GRPC_UNAVAILABLE || err.code === GRPC_DEADLINE_EXCEEDED || err.code === GRPC_CANCELED || err.httpStatus === 503) {
      return new UnavailableError(`etcd unavailable (${what}): ${err.message}`, err);
    }
    if (err.code === GRPC_UNAUTHENTICATED || /authentication failed|user name is empty|permission denied/.test(err.message)) {
      return new CalicoError('invalid-argument', `etcd refused the credentials (${what}): ${err.message}; check ETCD_USERNAME / ETCD_PASSWORD and the user's roles`, { cause: err });
    }
    return new CalicoError('internal', `etcd error (${what}): ${err.message} (gRPC code ${err.code})`, { cause: err });
  }
  const e = err as NodeJS.ErrnoException;
  return new UnavailableError(`etcd unreachable (${what}): ${e?.code ?? ''} ${e?.message ?? String(err)}`.trim(), err);
}
