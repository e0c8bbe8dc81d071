// Registers this host's Node resource: creates it, or updates its addresses
// (as node-address.ts decided them) and AS (when AS is set) while keeping
// everything else (status, other fields) as stored.
// Compare-and-swap with a few retries: another writer (calicoctl, IPAM) may
// touch the Node concurrently.
import { isCalicoError } from '../base/errors.js';
import type { Resource } from '../api/resource.js';
import type { Datastore } from '../datastore/datastore.js';

export interface NodeRegistration {
  nodeName: string;
  /** CIDR form, e.g. 192.0.2.10/24, or undefined when the family is not used. */
  ipv4?: string;
  ipv6?: string;
  asNumber?: number;
}

/** The Node resource as it should be after registration (pure, for tests and the agent). */
export function desiredNode(current: Resource | undefined, reg: NodeRegistration): Resource {
  const spec = { ...((current?.spec ?? {}) as Record<string, unknown>) };
  const bgp = { ...((spec.bgp ?? {}) as Record<string, unknown>) };
  if (reg.ipv4) bgp.ipv4Address = reg.ipv4;
  else delete bgp.ipv4Address;
  if (reg.ipv6) bgp.ipv6Address = reg.ipv6;
  else delete bgp.ipv6Address;
  // Without AS the stored one stays (set with calicoctl, or by an earlier AS=), as calico/node keeps it.
  if (reg.asNumber !== undefined) bgp.asNumber = reg.asNumber;
  if (Object.keys(bgp).length) spec.bgp = bgp;
  else delete spec.bgp;
  const addresses = [reg.ipv4, reg.ipv6].filter((a): a is string => !!a).map((a) => ({ address: a.split('/')[0]!, type: 'CalicoNodeIP' }));
  if (addresses.length) spec.addresses = addresses;
  else delete spec.addresses;
  const node: Resource = current
    ? { ...current, spec }
    : { apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: { name: reg.nodeName }, spec };
  return node;
}

/** Create-or-update with CAS; returns the stored Node and whether anything changed. */
export async function registerNode(ds: Datastore, reg: NodeRegistration): Promise<{ node: Resource; action: 'created' | 'updated' | 'unchanged' }> {
  for (let attempt = 0; ; attempt++) {
    let current: Resource | undefined;
    try {
      current = await ds.get({ kind: 'Node', name: reg.nodeName });
    } catch (err) {
      if (!isCalicoError(err, 'not-found')) throw err;
    }
    const want = desiredNode(current, reg);
    try {
      if (!current) return { node: await ds.create(want), action: 'created' };
      if (JSON.stringify(current.spec ?? {}) === JSON.stringify(want.spec ?? {})) return { node: current, action: 'unchanged' };
      return { node: await ds.update(want), action: 'updated' };
    } catch (err) {
      const lostRace = isCalicoError(err, 'conflict') || isCalicoError(err, 'already-exists');
      if (!lostRace || attempt >= 4) throw err;
    }
  }
}
