// Fakes of the flow-log ports, with operation logs for tests.
import type { ConntrackTable, FlowLogFileSystem, PacketLogSource } from './ports.js';

/** Returns the text it is given; counts reads. */
export class FakeConntrackTable implements ConntrackTable {
  reads = 0;
  accounting = false;
  constructor(public text = '') {}
  async enableAccounting(): Promise<void> {
    this.accounting = true;
  }
  async list(): Promise<string> {
    this.reads++;
    return this.text;
  }
}

export class FakePacketLogSource implements PacketLogSource {
  readonly ops: string[] = [];
  private handlers: Parameters<PacketLogSource['start']>[0] | undefined;

  get running(): boolean {
    return this.handlers !== undefined;
  }

  start(handlers: Parameters<PacketLogSource['start']>[0]): void {
    if (this.handlers) throw new Error('fake packet log source: started twice');
    this.ops.push('start');
    this.handlers = handlers;
  }

  async stop(): Promise<void> {
    this.ops.push('stop');
    this.handlers = undefined;
  }

  /** Delivers bytes as the reader would. */
  emit(chunk: Uint8Array): void {
    if (!this.handlers) throw new Error('fake packet log source: emit while not started');
    this.handlers.onData(chunk);
  }

  /** The reader dies by itself. */
  crash(reason: string): void {
    const h = this.handlers;
    this.handlers = undefined;
    h?.onExit(reason);
  }
}

export class MemoryFileSystem implements FlowLogFileSystem {
  readonly files = new Map<string, string>();
  readonly dirs = new Set<string>();
  readonly ops: string[] = [];
  private failNext: Error | undefined;

  /** The next operation rejects with this error. */
  failNextCall(err: Error): void {
    this.failNext = err;
  }

  private check(op: string): void {
    this.ops.push(op);
    const e = this.failNext;
    this.failNext = undefined;
    if (e) throw e;
  }

  async ensureDirectory(dir: string): Promise<void> {
    this.check(`mkdir ${dir}`);
    this.dirs.add(dir);
  }
  async size(path: string): Promise<number> {
    this.check(`size ${path}`);
    return Buffer.byteLength(this.files.get(path) ?? '');
  }
  async append(path: string, text: string): Promise<void> {
    this.check(`append ${path}`);
    this.files.set(path, (this.files.get(path) ?? '') + text);
  }
  async rename(from: string, to: string): Promise<void> {
    this.check(`rename ${from} ${to}`);
    const v = this.files.get(from);
    if (v === undefined) return;
    this.files.set(to, v);
    this.files.delete(from);
  }
  async remove(path: string): Promise<void> {
    this.check(`remove ${path}`);
    this.files.delete(path);
  }
}
