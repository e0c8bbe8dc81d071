// What flow logs reach the outside through: the NFLOG reader (a tcpdump
// process writing pcap to a pipe) and the file system holding the JSON lines.
// Real ones in linux.ts, fakes in fakes.ts.

/** A stream of pcap bytes from NFLOG (linux.ts: `tcpdump -i nflog:<group> -w -`). */
export interface PacketLogSource {
  /** Starts reading; `onExit` is called once if the reader stops by itself (crash, killed). */
  start(handlers: { onData(chunk: Uint8Array): void; onExit(reason: string): void }): void;
  /** Stops reading; resolves when the reader is gone. */
  stop(): Promise<void>;
}

/** The few file operations rotation needs, on absolute paths. */
export interface FlowLogFileSystem {
  ensureDirectory(dir: string): Promise<void>;
  /** Size in bytes; 0 when the file does not exist. */
  size(path: string): Promise<number>;
  append(path: string, text: string): Promise<void>;
  /** Replaces `to` if it exists; no error when `from` does not exist. */
  rename(from: string, to: string): Promise<void>;
  /** No error when it does not exist. */
  remove(path: string): Promise<void>;
}

/** The conntrack table as `conntrack -L -o extended` prints it (linux.ts turns accounting on first). */
export interface ConntrackTable {
  /** Turns on per-connection counters (only connections created after have them). */
  enableAccounting(): Promise<void>;
  list(): Promise<string>;
}
