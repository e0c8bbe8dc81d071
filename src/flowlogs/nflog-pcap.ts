// The pcap stream `tcpdump -i nflog:<group> -w -` writes, read incrementally.
// Pure: bytes in (in whatever chunks the pipe delivers), NFLOG records out.
//
// Format (libpcap, LINKTYPE_NFLOG = 239): a 24-byte global header (magic
// 0xa1b2c3d4 or, with nanosecond stamps, 0xa1b23c4d, in the writer's byte
// order; link type at offset 20), then records of a 16-byte header (seconds,
// micro/nanoseconds, captured length, original length) and the data. The
// data is the nfnetlink_log message: family (1 byte), version (1), resource
// id = the group (2, big-endian), then TLVs of (length, type) in HOST byte
// order, length including the 4-byte TLV header, each padded to 4 bytes.
// We read NFULA_PREFIX (10, NUL-terminated text) and NFULA_PAYLOAD (9, the
// packet from its IP header on).

export const LINKTYPE_NFLOG = 239;
const NFULA_PAYLOAD = 9;
const NFULA_PREFIX = 10;
const AF_INET = 2;
const AF_INET6 = 10;

export interface NflogRecord {
  /** Capture time in ms since the epoch. */
  timeMs: number;
  group: number;
  family: 4 | 6;
  prefix: string;
  /** The packet from the IP header on (possibly cut at the capture length). */
  payload: Uint8Array;
}

export class PcapFormatError extends Error {
  override readonly name = 'PcapFormatError';
}

/** Feed chunks in order; each call returns the records completed so far. */
export class NflogPcapParser {
  private buf: Buffer = Buffer.alloc(0);
  private header: { little: boolean; nano: boolean } | undefined;
  /** Records of a family other than IPv4/IPv6, or without a payload. */
  skipped = 0;

  push(chunk: Uint8Array): NflogRecord[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : Buffer.from(chunk);
    const out: NflogRecord[] = [];
    let at = 0;
    if (!this.header) {
      if (this.buf.length < 24) return out;
      this.header = readGlobalHeader(this.buf);
      at = 24;
    }
    const { little, nano } = this.header;
    const u32 = (o: number) => (little ? this.buf.readUInt32LE(o) : this.buf.readUInt32BE(o));
    while (this.buf.length - at >= 16) {
      const sec = u32(at);
      const frac = u32(at + 4);
      const caplen = u32(at + 8);
      if (caplen > 1 << 24) throw new PcapFormatError(`record of ${caplen} bytes: not a pcap stream from tcpdump`);
      if (this.buf.length - at - 16 < caplen) break;
      const data = this.buf.subarray(at + 16, at + 16 + caplen);
      at += 16 + caplen;
      const rec = parseNflog(data, sec * 1000 + Math.floor(frac / (nano ? 1e6 : 1e3)), little);
      if (rec) out.push(rec);
      else this.skipped++;
    }
    this.buf = this.buf.subarray(at);
    return out;
  }
}

function readGlobalHeader(b: Buffer): { little: boolean; nano: boolean } {
  const le = b.readUInt32LE(0);
  const be = b.readUInt32BE(0);
  let little: boolean;
  let nano: boolean;
  if (le === 0xa1b2c3d4 || le === 0xa1b23c4d) [little, nano] = [true, le === 0xa1b23c4d];
  else if (be === 0xa1b2c3d4 || be === 0xa1b23c4d) [little, nano] = [false, be === 0xa1b23c4d];
  else throw new PcapFormatError(`bad pcap magic 0x${be.toString(16)}: not a pcap stream`);
  const linktype = little ? b.readUInt32LE(20) : b.readUInt32BE(20);
  if ((linktype & 0x0fffffff) !== LINKTYPE_NFLOG) throw new PcapFormatError(`pcap link type ${linktype}, expected NFLOG (${LINKTYPE_NFLOG}): is tcpdump reading an nflog:<group> interface?`);
  return { little, nano };
}

/** One NFLOG message; undefined when it carries no IPv4/IPv6 payload. TLV fields are in the capturing host's byte order, which is the pcap writer's. */
export function parseNflog(data: Uint8Array, timeMs: number, little: boolean): NflogRecord | undefined {
  if (data.length < 4) return undefined;
  const b = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const af = b[0]!;
  const family = af === AF_INET ? 4 : af === AF_INET6 ? 6 : undefined;
  const group = b.readUInt16BE(2);
  let prefix = '';
  let payload: Uint8Array | undefined;
  let at = 4;
  while (at + 4 <= b.length) {
    const len = little ? b.readUInt16LE(at) : b.readUInt16BE(at);
    const type = (little ? b.readUInt16LE(at + 2) : b.readUInt16BE(at + 2)) & 0x7fff;
    if (len < 4) break;
    const end = Math.min(b.length, at + len);
    const value = b.subarray(at + 4, end);
    if (type === NFULA_PREFIX) {
      const nul = value.indexOf(0);
      prefix = value.subarray(0, nul === -1 ? value.length : nul).toString('latin1');
    } else if (type === NFULA_PAYLOAD) payload = value;
    at += (len + 3) & ~3;
  }
  if (!family || !payload || payload.length === 0) return undefined;
  return { timeMs, group, family, prefix, payload };
}
