// Resource builders shared by the calc tests (kept out of the graph's code).
import type { Resource } from '../api/resource.js';
import type { ResourceKind } from '../api/kinds.js';
import type { CalcGraph } from './graph.js';
import { applyCalcUpdate, emptyDesiredState, sortedMembers } from './output.js';
import type { CalcUpdate, DesiredPolicyState } from './output.js';

export function res(kind: ResourceKind, name: string, spec: Record<string, unknown>, meta: { namespace?: string; labels?: Record<string, string> } = {}): Resource {
  const metadata: Resource['metadata'] = { name };
  if (meta.namespace !== undefined) metadata.namespace = meta.namespace;
  if (meta.labels) metadata.labels = meta.labels;
  return { apiVersion: 'projectcalico.org/v3', kind, metadata, spec };
}

export function wep(opts: {
  name: string;
  namespace?: string;
  node?: string;
  ips: string[];
  labels?: Record<string, string>;
  profiles?: string[];
  ports?: Array<{ name: string; protocol?: string; port: number }>;
  iface?: string;
  serviceAccount?: string;
}): Resource {
  const namespace = opts.namespace ?? 'default';
  const spec: Record<string, unknown> = {
    node: opts.node ?? 'node-a',
    orchestrator: 'k8s',
    interfaceName: opts.iface ?? `cali${opts.name.padEnd(11, '0').slice(0, 11)}`,
    mac: '02:00:00:00:00:01',
    ipNetworks: opts.ips,
    profiles: opts.profiles ?? [`kns.${namespace}`],
  };
  if (opts.ports) spec.ports = opts.ports;
  if (opts.serviceAccount) spec.serviceAccountName = opts.serviceAccount;
  const meta: { namespace: string; labels?: Record<string, string> } = { namespace };
  if (opts.labels) meta.labels = opts.labels;
  return res('WorkloadEndpoint', opts.name, spec, meta);
}

export function gnp(name: string, spec: Record<string, unknown>): Resource {
  return res('GlobalNetworkPolicy', name, spec);
}

export function np(namespace: string, name: string, spec: Record<string, unknown>): Resource {
  return res('NetworkPolicy', name, spec, { namespace });
}

export function nsProfile(namespace: string, labels: Record<string, string> = {}): Resource {
  const labelsToApply: Record<string, string> = { 'pcns.projectcalico.org/name': namespace };
  for (const [k, v] of Object.entries(labels)) labelsToApply[`pcns.${k}`] = v;
  return res('Profile', `kns.${namespace}`, { labelsToApply, ingress: [{ action: 'Allow' }], egress: [{ action: 'Allow' }] });
}

/** Folds batches into a fresh state, as a dataplane mirror would. */
export function fold(batches: CalcUpdate[][]): DesiredPolicyState {
  const s = emptyDesiredState();
  for (const b of batches) for (const u of b) applyCalcUpdate(s, u);
  return s;
}

/** A comparable rendering of a state (maps sorted by key). */
export function canonicalState(s: DesiredPolicyState): unknown {
  const sorted = <T>(m: Map<string, T>) => [...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return {
    workloadEndpoints: sorted(s.workloadEndpoints),
    hostEndpoints: sorted(s.hostEndpoints),
    policies: sorted(s.policies),
    profiles: sorted(s.profiles),
    ipSets: sorted(s.ipSets).map(([k, v]) => [k, { ...v, members: sortedMembers(v.members) }]),
    ipPools: sorted(s.ipPools),
  };
}

/** Loads resources into a graph as one batch and flushes. */
export function load(graph: CalcGraph, resources: Resource[]): CalcUpdate[] {
  graph.onEvents(resources.map((resource) => ({ type: 'added', resource })));
  return graph.flush();
}
