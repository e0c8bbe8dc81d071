// What bench/run.ts records for one run of the benchmark suite, and the
// shapes of the results the report reads closely. Results are JSON written by
// our own benchmark scripts; the report reads them defensively (a benchmark
// that failed or was skipped has none) and never trusts a field to exist.

import type { DataplaneRatios, PathMedians, PathName } from './ratios.js';

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  kernel: string;
  os: string;
  node: string;
  /** Versions of the tools the benchmarks drive (nft, iperf3, etcd, bird ...). */
  tools: Record<string, string>;
}

export interface BenchRun {
  name: string;
  /** ok: ran and wrote its JSON; failed: non-zero exit or no JSON; skipped: not run (and why). */
  status: 'ok' | 'failed' | 'skipped';
  seconds: number;
  loadBefore: number[];
  loadAfter: number[];
  /** The benchmark's own JSON (bench/results/<name>.json), when status is ok. */
  result?: unknown;
  /** Last lines of its output when it failed, or why it was skipped. */
  note?: string;
  /** Set when this benchmark was re-run into a saved run (`--update`): when, and at which commit. */
  rerun?: { date: string; commit: string };
}

export interface RunRecord {
  date: string;
  quick: boolean;
  command: string;
  commit: string;
  machine: MachineInfo;
  loadBefore: number[];
  loadAfter: number[];
  seconds: number;
  benches: BenchRun[];
}

export interface DataplaneCompareResult {
  backend: string;
  rounds: number;
  seconds: number;
  samples: Record<PathName, { tcp1Gbps: number[]; tcp4Gbps: number[]; connPerSecond: number[]; connectP50Us: number[] }>;
  medians: Record<PathName, PathMedians>;
  ratios: DataplaneRatios;
  profile: Record<PathName, { mtu: number; senderCpuPct: number; receiverCpuPct: number; machineBusyPct?: number; softirqPct?: number; retransmits: number; connectErrors: number; nftRulesetLines?: { h1: number; h2: number } }>;
}

export interface PolicyScalingResult {
  workloads: number;
  points: number[];
  seconds: number;
  rounds: number;
  results: {
    backend: string;
    program: { programMs: number; addP50: number; addP99: number };
    scaling: {
      points: { rules: number; connPerSecond: number[]; connectP50Us: number[] }[];
      linear: { rules: number; connPerSecond: number[] };
      rulesetLines?: Record<string, number>;
    };
  }[];
}

/** iperf3 single-stream samples through one ruleset, one per round (bench/policy-scale.ts). */
export interface StreamSamples {
  gbps: number[];
  senderCpuPct: number[];
  receiverCpuPct: number[];
  /** All CPUs, softirq included, during the sample. */
  machineBusyPct: number[];
  softirqPct: number[];
  retransmits: number[];
}

/**
 * bench/policy-scale.ts: N GlobalNetworkPolicies x R rules in front of the
 * policy that allows the flow ("many") vs that policy alone ("none"), per backend.
 */
export interface PolicyScaleResult {
  policies: number;
  rules: number;
  /** Seconds per connection-rate sample. */
  seconds: number;
  rounds: number;
  /** Seconds per iperf3 sample; absent in results from before the throughput part. */
  streamSeconds?: number;
  results: {
    backend: string;
    programMs: number;
    /** New TCP connections/s, one sample per round. */
    none: number[];
    many: number[];
    /** median(many) / median(none) of the connection rates. */
    ratio: number;
    errors: number;
    ruleset: { chains: number; tierChainRules: number; sets: number; setElements: number };
    /** Single-stream TCP through the same two rulesets; ratio is median Gbit/s many / none. Absent in older results. */
    throughput?: { none: StreamSamples; many: StreamSamples; ratio: number };
  }[];
}

/** A function's share of the sampled CPU time, from node --cpu-prof. */
export interface CpuHotspot {
  function: string;
  where: string;
  selfMs: number;
  share: number;
}

export interface NodeResult {
  endpoints: number;
  policies: number;
  readyMs: number;
  resyncMs?: number;
  latenciesMs: number[];
  rssMb: number;
  /** Resident memory of the agent's child processes (its nft/ip/sh sessions); absent in runs before they existed. */
  helperRssMb?: number;
  idleCpuPct: number;
  applyRounds: number;
  applySeconds: number;
  cpuProfile?: { phase: string; totalMs: number; top: CpuHotspot[] };
}

/** bench/control-plane.ts: the apply loop at scale against the real kernel (nftables). */
export interface ControlPlaneResult {
  endpoints: number;
  policies: number;
  local: number;
  changes: number;
  /** One policy's rules changed -> the nft transaction holding it committed. */
  enforce: {
    p50Ms: number;
    p99Ms: number;
    samplesMs: number[];
    /** Changes that add set elements, and those that remove them (runs from 2026-12-05 on alternate the two). */
    adding?: { p50Ms: number; p99Ms: number };
    removing?: { p50Ms: number; p99Ms: number };
  };
  /** This process (managers, apply loop, caches, kernel views) with the state loaded. */
  rssMb: number;
  loadMs: number;
  /** Per policy count: the one-policy-change round, the objects it compared, and a full reconcile round of the same state. */
  rows: { policies: number; local: number; p50Ms: number; p99Ms: number; objects: number; fullReconcileMs: number }[];
}

export interface CniResult {
  n: number;
  parallel: number;
  rows: { scenario: string; samples: number; p50ms: number; p99ms: number; maxms: number }[];
}

export interface ScaleResult {
  nodes: number;
  endpoints: number;
  runs: {
    etcd: string;
    loadSeconds: number;
    inSyncMs: number;
    rssMb: number;
    birdPeers: number;
    offeredPerSecond: number;
    /** Writes etcd acknowledged per second (the writer may fall short of the offered rate). */
    writePerSecond: number;
    /** Updates per second the agent's calc graph processed, first write to last one processed. */
    sustainedPerSecond: number;
    lagP50Ms: number;
    lagP99Ms: number;
    writes: number;
    writesAcked: number;
    writeErrors: number;
    /** Re-lists the agent made during the writes (lag is not measured across one). */
    resyncs: number;
    memberKilled?: string;
    agentEndpoints: number;
    etcdEndpoints: number;
    etcdOddSet: number;
    kernelOddSet: number;
    /** Acknowledged writes whose value etcd does not hold at the end. */
    lost: number;
    /** Addresses in one of (etcd's odd set, the kernel's) and not the other, when the wait ended (up to 180 s). */
    kernelDiff?: number;
    /** From the end of the writes' processing to the kernel holding etcd's set (or giving up). */
    kernelCatchUpMs?: number;
  }[];
}

/** The result of one benchmark by name, when it ran. */
export function resultOf<T>(run: RunRecord, name: string): T | undefined {
  const b = run.benches.find((x) => x.name === name);
  return b?.status === 'ok' && b.result && typeof b.result === 'object' ? (b.result as T) : undefined;
}

/** bench/xlat.ts: single-stream TCP through the translated (address space) and the native routed path. */
export interface XlatResult {
  seconds: number;
  rounds: number;
  rows: { path: 'native' | 'translated'; gbps: number; coresPerGbps: number; retransmits: number }[];
  ratio: number;
}
