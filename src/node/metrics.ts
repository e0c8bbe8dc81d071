// Prometheus text exposition (format 0.0.4) for the agent's metrics. Pure: a
// registry of named gauges, counters and histograms that render to text; the
// HTTP server (health-server.ts) only serves the string.

export type MetricType = 'counter' | 'gauge' | 'histogram';

interface Series {
  labels: Record<string, string>;
  value: number;
}

interface Metric {
  name: string;
  help: string;
  type: MetricType;
  series: Map<string, Series>;
  /** Histograms only. */
  buckets?: number[];
  observations?: Map<string, { labels: Record<string, string>; counts: number[]; sum: number; count: number }>;
}

const labelKey = (labels: Record<string, string>) => JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)));
const escape = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
const renderLabels = (labels: Record<string, string>) => {
  const e = Object.entries(labels);
  return e.length ? `{${e.map(([k, v]) => `${k}="${escape(v)}"`).join(',')}}` : '';
};
const num = (n: number) => (Number.isFinite(n) ? String(n) : n > 0 ? '+Inf' : n < 0 ? '-Inf' : 'NaN');

export class MetricsRegistry {
  private readonly metrics = new Map<string, Metric>();

  private get(name: string, help: string, type: MetricType, buckets?: number[]): Metric {
    let m = this.metrics.get(name);
    if (!m) {
      m = { name, help, type, series: new Map() };
      if (buckets) {
        m.buckets = [...buckets].sort((a, b) => a - b);
        m.observations = new Map();
      }
      this.metrics.set(name, m);
    }
    if (m.type !== type) throw new Error(`metric ${name} is a ${m.type}, not a ${type}`);
    return m;
  }

  /** Declares a metric so it renders (with HELP/TYPE) even before its first value. */
  declare(name: string, help: string, type: MetricType, buckets?: number[]): void {
    this.get(name, help, type, type === 'histogram' ? (buckets ?? [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10]) : undefined);
  }

  set(name: string, value: number, labels: Record<string, string> = {}): void {
    const m = this.metrics.get(name);
    if (!m || m.type === 'histogram') throw new Error(`metric ${name} is not a declared gauge or counter`);
    m.series.set(labelKey(labels), { labels, value });
  }

  inc(name: string, by = 1, labels: Record<string, string> = {}): void {
    const m = this.metrics.get(name);
    if (!m || m.type === 'histogram') throw new Error(`metric ${name} is not a declared gauge or counter`);
    const k = labelKey(labels);
    m.series.set(k, { labels, value: (m.series.get(k)?.value ?? 0) + by });
  }

  observe(name: string, value: number, labels: Record<string, string> = {}): void {
    const m = this.metrics.get(name);
    if (!m || !m.observations || !m.buckets) throw new Error(`metric ${name} is not a declared histogram`);
    const k = labelKey(labels);
    let o = m.observations.get(k);
    if (!o) m.observations.set(k, (o = { labels, counts: m.buckets.map(() => 0), sum: 0, count: 0 }));
    m.buckets.forEach((b, i) => {
      if (value <= b) o!.counts[i]!++;
    });
    o.sum += value;
    o.count++;
  }

  render(): string {
    const lines: string[] = [];
    for (const m of [...this.metrics.values()].sort((a, b) => (a.name < b.name ? -1 : 1))) {
      lines.push(`# HELP ${m.name} ${m.help}`, `# TYPE ${m.name} ${m.type}`);
      if (m.observations && m.buckets) {
        for (const o of m.observations.values()) {
          m.buckets.forEach((b, i) => lines.push(`${m.name}_bucket${renderLabels({ ...o.labels, le: num(b) })} ${o.counts[i]}`));
          lines.push(`${m.name}_bucket${renderLabels({ ...o.labels, le: '+Inf' })} ${o.count}`);
          lines.push(`${m.name}_sum${renderLabels(o.labels)} ${num(o.sum)}`, `${m.name}_count${renderLabels(o.labels)} ${o.count}`);
        }
      } else {
        for (const s of m.series.values()) lines.push(`${m.name}${renderLabels(s.labels)} ${num(s.value)}`);
      }
    }
    return lines.join('\n') + '\n';
  }
}
