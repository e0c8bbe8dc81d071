// The fake side of the CliIO port: files in a map, captured output, an
// in-memory datastore. Lets every command run in-process in unit tests, and
// records each connect so tests can assert "validation failed before any
// datastore access".
import type { Resource } from '../api/resource.js';
import { UnavailableError } from '../base/errors.js';
import type { Datastore } from '../datastore/datastore.js';
import { MemoryKV } from '../datastore/memory-kv.js';
import { ResourceStore } from '../datastore/resource-store.js';
import { main } from './calicoctl.js';
import type { CliIO, ConnectRequest, DatastoreConnection } from './command.js';

export interface FakeIOOptions {
  files?: Record<string, string>;
  stdin?: string;
  env?: Record<string, string | undefined>;
  /** Validation hook of the in-memory datastore (default: accept). */
  validate?: (r: Resource) => Resource;
  /** Make connect fail as an unreachable etcd would. */
  unreachable?: boolean;
}

export class FakeIO implements CliIO {
  readonly files: Map<string, string>;
  readonly env: Record<string, string | undefined>;
  stdin: string;
  out = '';
  errOut = '';
  readonly datastoreImpl: ResourceStore;
  readonly connects: ConnectRequest[] = [];
  unreachable: boolean;
  readonly stdout = { write: (t: string): void => void (this.out += t) };
  readonly stderr = { write: (t: string): void => void (this.errOut += t) };
  readonly version = { client: 'v0.1.0-test', gitCommit: 'abc1234' };

  constructor(opts: FakeIOOptions = {}) {
    this.files = new Map(Object.entries(opts.files ?? {}));
    this.env = opts.env ?? {};
    this.stdin = opts.stdin ?? '';
    this.unreachable = opts.unreachable ?? false;
    let uid = 0;
    this.datastoreImpl = new ResourceStore(new MemoryKV(), {
      ...(opts.validate ? { validate: opts.validate } : {}),
      now: () => new Date('2026-01-02T03:04:05Z'),
      newUid: () => `uid-${++uid}`,
    });
  }

  get datastore(): Datastore {
    return this.datastoreImpl;
  }

  async readStdin(): Promise<string> {
    return this.stdin;
  }

  async readFile(path: string): Promise<string> {
    const text = this.files.get(path);
    if (text === undefined) throw new Error(`open ${path}: no such file or directory`);
    return text;
  }

  async statPath(path: string): Promise<'file' | 'directory' | undefined> {
    if (this.files.has(path)) return 'file';
    const dir = path.endsWith('/') ? path : path + '/';
    return [...this.files.keys()].some((f) => f.startsWith(dir)) ? 'directory' : undefined;
  }

  async listDirectory(path: string): Promise<string[]> {
    const dir = path.endsWith('/') ? path : path + '/';
    const names = new Set<string>();
    for (const f of this.files.keys()) if (f.startsWith(dir)) names.add(f.slice(dir.length).split('/')[0] as string);
    return [...names];
  }

  async connect(request: ConnectRequest): Promise<DatastoreConnection> {
    this.connects.push(request);
    if (this.unreachable) throw new UnavailableError('etcdv3 at http://127.0.0.1:1: connect ECONNREFUSED 127.0.0.1:1');
    // The command closes the datastore after it runs; the fake must survive for the next command.
    const ds = this.datastoreImpl;
    const view: Datastore = Object.create(ds, { close: { value: async () => undefined } });
    return { datastore: view, endpoint: 'memory' };
  }

  /** Runs one command line (split on spaces unless an array is given) and returns exit code and output. */
  async run(argv: string | string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    this.out = '';
    this.errOut = '';
    const args = typeof argv === 'string' ? argv.split(' ').filter(Boolean) : argv;
    const code = await main(args, this);
    return { code, stdout: this.out, stderr: this.errOut };
  }
}
