// Builders of what tcpdump writes for nflog:<group>, and of IP packets, for
// the flow-log tests. Written from the formats (see nflog-pcap.ts), not from
// the parser, so a parser bug is not mirrored here.

export interface FakeNflog {
  timeMs: number;
  prefix: string;
  family: 4 | 6;
  packet: Uint8Array;
  group?: number;
}

function tlv(type: number, value: Uint8Array, little: boolean): Buffer {
  const len = 4 + value.length;
  const b = Buffer.alloc((len + 3) & ~3);
  if (little) {
    b.writeUInt16LE(len, 0);
    b.writeUInt16LE(type, 2);
  } else {
    b.writeUInt16BE(len, 0);
    b.writeUInt16BE(type, 2);
  }
  Buffer.from(value).copy(b, 4);
  return b;
}

export function pcapStream(records: FakeNflog[], opts: { little?: boolean; nano?: boolean; linktype?: number } = {}): Buffer {
  const little = opts.little ?? true;
  const w32 = (b: Buffer, v: number, at: number) => (little ? b.writeUInt32LE(v, at) : b.writeUInt32BE(v, at));
  const head = Buffer.alloc(24);
  w32(head, opts.nano ? 0xa1b23c4d : 0xa1b2c3d4, 0);
  if (little) {
    head.writeUInt16LE(2, 4);
    head.writeUInt16LE(4, 6);
  } else {
    head.writeUInt16BE(2, 4);
    head.writeUInt16BE(4, 6);
  }
  w32(head, 262144, 16);
  w32(head, opts.linktype ?? 239, 20);
  const parts: Buffer[] = [head];
  for (const r of records) {
    const hdr = Buffer.alloc(4);
    hdr[0] = r.family === 4 ? 2 : 10;
    hdr[1] = 0;
    hdr.writeUInt16BE(r.group ?? 20, 2);
    // The kernel's order: packet header (hw protocol, hook), prefix, interface, ..., payload last.
    const body = Buffer.concat([hdr, tlv(1, Buffer.from([0x08, 0x00, 2, 0]), little), tlv(10, Buffer.from(r.prefix + '\0', 'latin1'), little), tlv(4, Buffer.from([0, 0, 0, 7]), little), tlv(9, r.packet, little)]);
    const rec = Buffer.alloc(16);
    w32(rec, Math.floor(r.timeMs / 1000), 0);
    w32(rec, (r.timeMs % 1000) * (opts.nano ? 1e6 : 1e3), 4);
    w32(rec, body.length, 8);
    w32(rec, body.length, 12);
    parts.push(rec, body);
  }
  return Buffer.concat(parts);
}

const v4 = (ip: string) => ip.split('.').map(Number);

/** An IPv4 packet: TCP/UDP with ports, ICMP with type/code, `length` bytes long (headers only are built). */
export function ipv4(opts: { src: string; dst: string; protocol: number; srcPort?: number; dstPort?: number; icmpType?: number; icmpCode?: number; length?: number }): Uint8Array {
  const l4 = Buffer.alloc(8);
  if (opts.srcPort !== undefined) {
    l4.writeUInt16BE(opts.srcPort, 0);
    l4.writeUInt16BE(opts.dstPort ?? 0, 2);
  } else if (opts.icmpType !== undefined) {
    l4[0] = opts.icmpType;
    l4[1] = opts.icmpCode ?? 0;
  }
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip.writeUInt16BE(opts.length ?? 60, 2);
  ip[8] = 64;
  ip[9] = opts.protocol;
  Buffer.from(v4(opts.src)).copy(ip, 12);
  Buffer.from(v4(opts.dst)).copy(ip, 16);
  return Buffer.concat([ip, l4]);
}

function v6(ip: string): Buffer {
  const [head, tail] = ip.includes('::') ? ip.split('::') : [ip, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const words = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t].map((w) => parseInt(w || '0', 16));
  const b = Buffer.alloc(16);
  words.forEach((w, i) => b.writeUInt16BE(w, i * 2));
  return b;
}

/** An IPv6 packet, optionally behind a hop-by-hop options header. */
export function ipv6(opts: { src: string; dst: string; protocol: number; srcPort?: number; dstPort?: number; icmpType?: number; hopByHop?: boolean; payloadLength?: number }): Uint8Array {
  const l4 = Buffer.alloc(8);
  if (opts.srcPort !== undefined) {
    l4.writeUInt16BE(opts.srcPort, 0);
    l4.writeUInt16BE(opts.dstPort ?? 0, 2);
  } else if (opts.icmpType !== undefined) l4[0] = opts.icmpType;
  const ext = opts.hopByHop ? Buffer.from([opts.protocol, 0, 1, 4, 0, 0, 0, 0]) : Buffer.alloc(0);
  const ip = Buffer.alloc(40);
  ip[0] = 0x60;
  ip.writeUInt16BE(opts.payloadLength ?? 40, 4);
  ip[6] = opts.hopByHop ? 0 : opts.protocol;
  ip[7] = 64;
  v6(opts.src).copy(ip, 8);
  v6(opts.dst).copy(ip, 24);
  return Buffer.concat([ip, ext, l4]);
}
