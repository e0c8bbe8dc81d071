// The dataplane comparison's ratios, from the medians of each path. Pure, so
// the benchmark's printout and the report compute them the same way.

/** The four paths of bench/dataplane-compare.ts, on the same two hosts. */
export const PATHS = ['routedPolicy', 'routed', 'overlay', 'bare'] as const;
export type PathName = (typeof PATHS)[number];

export const PATH_LABELS: Record<PathName, string> = {
  routedPolicy: 'routed + policy',
  routed: 'routed, no policy',
  overlay: 'VXLAN overlay (bridge)',
  bare: 'host to host (bare)',
};

/** Medians of one path: throughput in Gbit/s, new connections per second, connect time in microseconds. */
export interface PathMedians {
  tcp1Gbps: number;
  tcp4Gbps: number;
  connPerSecond: number;
  connectP50Us: number;
}

export type Metric = keyof PathMedians;

export interface DataplaneRatios {
  /** routed (no policy) / overlay: how much faster routing without encapsulation is. */
  routedOverOverlay: Record<Metric, number>;
  /** 1 - routedPolicy / routed: the share of throughput (or rate) the policy costs. For connect time: routedPolicy / routed - 1 (extra time). */
  policyCost: Record<Metric, number>;
  /** routed (no policy) / bare: what the two extra veth hops cost. */
  routedOverBare: Record<Metric, number>;
}

const METRICS: Metric[] = ['tcp1Gbps', 'tcp4Gbps', 'connPerSecond', 'connectP50Us'];
/** Lower is better for connect time: ratios are inverted so "> 1" always means "the first is better". */
const lowerIsBetter = (m: Metric) => m === 'connectP50Us';

function ratio(m: Metric, a: number, b: number): number {
  return lowerIsBetter(m) ? b / a : a / b;
}

export function dataplaneRatios(p: Record<PathName, PathMedians>): DataplaneRatios {
  const each = (f: (m: Metric) => number) => Object.fromEntries(METRICS.map((m) => [m, f(m)])) as Record<Metric, number>;
  return {
    routedOverOverlay: each((m) => ratio(m, p.routed[m], p.overlay[m])),
    policyCost: each((m) => (lowerIsBetter(m) ? p.routedPolicy[m] / p.routed[m] - 1 : 1 - p.routedPolicy[m] / p.routed[m])),
    routedOverBare: each((m) => ratio(m, p.routed[m], p.bare[m])),
  };
}
