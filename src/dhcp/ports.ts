// What the DHCP agent needs from the host, as small ports with real drivers
// (linux.ts) and fakes (fakes.ts).

/** The host interface that holds the gateway addresses (ours by its name). */
export interface DhcpInterface {
  /** Makes `name` exist, up, carrying exactly `addresses` (IPv4, each as /32). */
  ensure(name: string, addresses: string[]): Promise<void>;
  /** Removes `name` if it exists. */
  remove(name: string): Promise<void>;
}

/** One supervised dnsmasq process. */
export interface Dnsmasq {
  /**
   * Checks `conf` (dnsmasq --test), writes it and (re)starts dnsmasq on it.
   * Throws DhcpError when the file is refused or dnsmasq does not stay up; a
   * refused file leaves the running dnsmasq alone.
   */
  restart(conf: string): Promise<void>;
  /** Stops dnsmasq if it runs. */
  stop(): Promise<void>;
  /** Called when dnsmasq exits on its own (not through restart or stop). */
  onUnexpectedExit(handler: (detail: string) => void): void;
}

/** A timer the agent can cancel (retry after a failure); injected so tests run without sleeps. */
export interface Timers {
  setTimeout(fn: () => void, ms: number): { cancel(): void };
}
