// Fakes for the DHCP agent's ports: an operation log to assert on, and a
// switch that makes the next call fail.
import { DhcpError } from './errors.js';
import type { DhcpInterface, Dnsmasq, Timers } from './ports.js';

export class FakeDhcpHost implements DhcpInterface, Dnsmasq {
  readonly ops: string[] = [];
  /** The running dnsmasq's configuration, '' when stopped. */
  conf = '';
  addresses: string[] | undefined;
  private failNextCall: string | undefined;
  private exitHandler: ((detail: string) => void) | undefined;

  /** The next call to `op` ('ensure' | 'remove' | 'restart' | 'stop') throws. */
  failNext(op: string): void {
    this.failNextCall = op;
  }
  private maybeFail(op: string): void {
    if (this.failNextCall !== op) return;
    this.failNextCall = undefined;
    throw new DhcpError(`${op} failed (fake)`);
  }
  async ensure(name: string, addresses: string[]): Promise<void> {
    this.ops.push(`ensure ${name} ${addresses.join(',')}`);
    this.maybeFail('ensure');
    this.addresses = [...addresses];
  }
  async remove(name: string): Promise<void> {
    this.ops.push(`remove ${name}`);
    this.maybeFail('remove');
    this.addresses = undefined;
  }
  async restart(conf: string): Promise<void> {
    this.ops.push('restart');
    this.maybeFail('restart');
    this.conf = conf;
  }
  async stop(): Promise<void> {
    this.ops.push('stop');
    this.maybeFail('stop');
    this.conf = '';
  }
  onUnexpectedExit(handler: (detail: string) => void): void {
    this.exitHandler = handler;
  }
  /** Simulates dnsmasq dying. */
  crash(): void {
    this.conf = '';
    this.exitHandler?.('killed (fake)');
  }
}

/** Timers that fire only when told to. */
export class FakeTimers implements Timers {
  private pending: { fn: () => void; ms: number; cancelled: boolean }[] = [];
  setTimeout(fn: () => void, ms: number): { cancel(): void } {
    const t = { fn, ms, cancelled: false };
    this.pending.push(t);
    return { cancel: () => (t.cancelled = true) };
  }
  /** Fires every pending timer; returns how many fired. */
  fireAll(): number {
    const due = this.pending.filter((t) => !t.cancelled);
    this.pending = [];
    for (const t of due) t.fn();
    return due.length;
  }
}
