// How etcd's JSON gateway spells things: base64 keys/values, int64 as strings,
// default-valued fields omitted. Shared by the KV client and its watch stream.
import type { KVPair } from './kv.js';

/** etcd's KeyValue as the gateway sends it. */
export interface WireKV {
  key: string;
  value?: string;
  create_revision?: string;
  mod_revision?: string;
  version?: string;
}

export const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
export const unb64 = (s: string | undefined): string => (s ? Buffer.from(s, 'base64').toString('utf8') : '');

/** The range_end that makes [key, end) = "every key starting with key" (etcd's prefix rule). */
export function prefixEnd(prefix: string): string {
  const bytes = Buffer.from(prefix, 'utf8');
  for (let i = bytes.length - 1; i >= 0; i--) {
    if (bytes[i]! < 0xff) {
      const end = bytes.subarray(0, i + 1);
      end[i]! += 1;
      return end.toString('base64');
    }
  }
  return Buffer.from([0]).toString('base64'); // all 0xff (or empty): to the end of the keyspace
}

export function fromWire(kv: WireKV): KVPair {
  return {
    key: unb64(kv.key),
    value: unb64(kv.value),
    createRevision: Number(kv.create_revision ?? 0),
    modRevision: Number(kv.mod_revision ?? 0),
    version: Number(kv.version ?? 0),
  };
}

