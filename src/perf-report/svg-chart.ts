// A tiny chart renderer for the performance report: grouped bars and lines
// over categories, as standalone SVG text. Pure and deterministic (same input,
// same bytes) so a regenerated report only changes where the numbers did.
// No npm dependency: the report must render on a machine with only node.

import { CalicoError } from '../base/errors.js';

export interface ChartSeries {
  name: string;
  /** One value per category; null = not measured (no bar, a gap in a line). */
  values: (number | null)[];
}

export interface ChartSpec {
  kind: 'bar' | 'line';
  title: string;
  /** Axis label for the values, with the unit, e.g. "Gbit/s". */
  yLabel: string;
  /** The x axis: one label per position (groups of bars, or line points). */
  categories: string[];
  series: ChartSeries[];
  xLabel?: string;
}

const WIDTH = 640;
const HEIGHT = 360;
const MARGIN = { left: 70, right: 20, top: 40, bottom: 80 };
/** Colour-blind-safe palette (Okabe-Ito), in series order. */
export const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#F0E442', '#000000'];

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Round `max` up to 1, 2 or 5 x 10^k and split it in ticks of that step. */
export function niceScale(max: number): { top: number; ticks: number[] } {
  if (!(max > 0)) return { top: 1, ticks: [0, 0.2, 0.4, 0.6, 0.8, 1] };
  const rough = max / 5;
  const pow = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * pow).find((s) => s >= rough - 1e-12)!;
  const top = Math.ceil(max / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let i = 0; i * step <= top + step / 1e6; i++) ticks.push(Number((i * step).toPrecision(12)));
  return { top, ticks };
}

/** Short tick text: 12000 -> 12k, 0.25 -> 0.25. */
export function formatTick(v: number): string {
  if (v !== 0 && Math.abs(v) >= 1e6) return `${Number((v / 1e6).toPrecision(3))}M`;
  if (v !== 0 && Math.abs(v) >= 1e3) return `${Number((v / 1e3).toPrecision(3))}k`;
  return String(Number(v.toPrecision(3)));
}

const f = (n: number) => (Math.round(n * 10) / 10).toFixed(1);
/** Width of legend text at 12 px sans-serif, generously estimated (no font metrics here). */
const legendTextWidth = (text: string) => Math.max(40, Math.ceil(text.length * 7));

function check(spec: ChartSpec): void {
  const where = `chart "${spec.title}"`;
  if (spec.categories.length === 0) throw new CalicoError('invalid-argument', `${where}: no categories; give at least one x label`);
  if (spec.series.length === 0) throw new CalicoError('invalid-argument', `${where}: no series; give at least one`);
  for (const s of spec.series) {
    if (s.values.length !== spec.categories.length) {
      throw new CalicoError('invalid-argument', `${where}: series "${s.name}" has ${s.values.length} values for ${spec.categories.length} categories; give one value (or null) per category`);
    }
    for (const v of s.values) {
      if (v !== null && (!Number.isFinite(v) || v < 0)) throw new CalicoError('invalid-argument', `${where}: series "${s.name}" has value ${v}; values must be finite and >= 0 (or null when not measured)`);
    }
  }
}

/** The chart as an SVG document. Throws CalicoError('invalid-argument') on malformed specs. */
export function renderChart(spec: ChartSpec): string {
  check(spec);
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const max = Math.max(0, ...spec.series.flatMap((s) => s.values.filter((v): v is number => v !== null)));
  const { top, ticks } = niceScale(max);
  const y = (v: number) => MARGIN.top + plotH - (v / top) * plotH;
  const slot = plotW / spec.categories.length;
  const centre = (i: number) => MARGIN.left + slot * (i + 0.5);
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`);
  out.push(`<title>${escapeXml(spec.title)}</title>`);
  out.push(`<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`);
  out.push(`<text x="${WIDTH / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(spec.title)}</text>`);
  for (const t of ticks) {
    out.push(`<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${f(y(t))}" y2="${f(y(t))}" stroke="#dddddd"/>`);
    out.push(`<text x="${MARGIN.left - 6}" y="${f(y(t) + 4)}" text-anchor="end">${formatTick(t)}</text>`);
  }
  out.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left}" y1="${MARGIN.top}" y2="${MARGIN.top + plotH}" stroke="#333333"/>`);
  out.push(`<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${MARGIN.top + plotH}" y2="${MARGIN.top + plotH}" stroke="#333333"/>`);
  out.push(`<text transform="translate(16 ${MARGIN.top + plotH / 2}) rotate(-90)" text-anchor="middle">${escapeXml(spec.yLabel)}</text>`);
  spec.categories.forEach((c, i) => out.push(`<text x="${f(centre(i))}" y="${MARGIN.top + plotH + 16}" text-anchor="middle">${escapeXml(c)}</text>`));
  if (spec.xLabel) out.push(`<text x="${MARGIN.left + plotW / 2}" y="${MARGIN.top + plotH + 34}" text-anchor="middle">${escapeXml(spec.xLabel)}</text>`);

  if (spec.kind === 'bar') {
    const barW = (slot * 0.8) / spec.series.length;
    spec.series.forEach((s, k) => {
      s.values.forEach((v, i) => {
        if (v === null) return;
        const x = centre(i) - slot * 0.4 + k * barW;
        out.push(`<rect class="bar" x="${f(x)}" y="${f(y(v))}" width="${f(barW * 0.92)}" height="${f(y(0) - y(v))}" fill="${PALETTE[k % PALETTE.length]}"><title>${escapeXml(`${s.name}, ${spec.categories[i]}: ${formatTick(v)}`)}</title></rect>`);
      });
    });
  } else {
    spec.series.forEach((s, k) => {
      const colour = PALETTE[k % PALETTE.length];
      // A null breaks the line: a gap says "not measured", a bridge would invent a trend.
      let run: string[] = [];
      const flush = () => {
        if (run.length > 1) out.push(`<polyline class="line" fill="none" stroke="${colour}" stroke-width="2" points="${run.join(' ')}"/>`);
        run = [];
      };
      s.values.forEach((v, i) => {
        if (v === null) return flush();
        run.push(`${f(centre(i))},${f(y(v))}`);
        out.push(`<circle class="point" cx="${f(centre(i))}" cy="${f(y(v))}" r="3" fill="${colour}"><title>${escapeXml(`${s.name}, ${spec.categories[i]}: ${formatTick(v)}`)}</title></circle>`);
      });
      flush();
    });
  }
  // Legend under the axis, one entry per series; wraps to a second row rather than run off the edge.
  let lx = MARGIN.left;
  let ly = MARGIN.top + plotH + 52;
  spec.series.forEach((s, k) => {
    const w = 16 + legendTextWidth(s.name) + 14;
    if (lx > MARGIN.left && lx + w > WIDTH - MARGIN.right) {
      lx = MARGIN.left;
      ly += 16;
    }
    out.push(`<rect class="legend" x="${lx}" y="${ly - 10}" width="12" height="12" fill="${PALETTE[k % PALETTE.length]}"/>`);
    out.push(`<text x="${lx + 16}" y="${ly}">${escapeXml(s.name)}</text>`);
    lx += w;
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
