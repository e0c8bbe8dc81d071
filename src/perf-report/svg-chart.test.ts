import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CalicoError } from '../base/errors.js';
import { escapeXml, formatTick, niceScale, renderChart, type ChartSpec } from './svg-chart.js';

const bars: ChartSpec = {
  kind: 'bar',
  title: 'TCP throughput',
  yLabel: 'Gbit/s',
  categories: ['1 stream', '4 streams'],
  series: [
    { name: 'routed', values: [20, 10] },
    { name: 'overlay', values: [16, null] },
  ],
};

/** Heights of the bars, in document order. */
const barHeights = (svg: string) => [...svg.matchAll(/<rect class="bar"[^>]* height="([\d.]+)"/g)].map((m) => Number(m[1]));

test('niceScale rounds the top up to 1, 2 or 5 x 10^k and ticks from 0 to it', () => {
  const cases: [number, number, number[]][] = [
    [1, 1, [0, 0.2, 0.4, 0.6, 0.8, 1]],
    [7.3, 8, [0, 2, 4, 6, 8]],
    [16_000, 20_000, [0, 5000, 10000, 15000, 20000]],
    [22.7, 25, [0, 5, 10, 15, 20, 25]],
    [0, 1, [0, 0.2, 0.4, 0.6, 0.8, 1]],
  ];
  for (const [max, top, ticks] of cases) assert.deepEqual(niceScale(max), { top, ticks }, `max ${max}`);
});

test('formatTick shortens thousands and millions', () => {
  assert.deepEqual([0, 0.25, 950, 1000, 12_500, 2_000_000].map(formatTick), ['0', '0.25', '950', '1k', '12.5k', '2M']);
});

test('bar heights are proportional to the values; a null value draws no bar', () => {
  const svg = renderChart(bars);
  const h = barHeights(svg);
  assert.equal(h.length, 3, 'three measured values, three bars');
  // Document order: series "routed" (20, 10), then "overlay" (16).
  assert.ok(Math.abs(h[0]! / h[1]! - 2) < 0.02, `20 vs 10: ${h}`);
  assert.ok(Math.abs(h[0]! / h[2]! - 20 / 16) < 0.02, `20 vs 16: ${h}`);
});

test('a line chart breaks at a null instead of bridging it', () => {
  const svg = renderChart({ kind: 'line', title: 'conn/s', yLabel: 'conn/s', categories: ['0', '100', '1k', '10k'], series: [{ name: 'nft', values: [100, 90, null, 80] }] });
  assert.equal([...svg.matchAll(/<circle class="point"/g)].length, 3);
  // Only the 0 -> 100 run has two points; "10k" stands alone.
  assert.equal([...svg.matchAll(/<polyline class="line"/g)].length, 1);
});

test('the same input renders the same bytes, and text is escaped', () => {
  const spec: ChartSpec = { ...bars, title: 'routed <policy> & "bare"' };
  assert.equal(renderChart(spec), renderChart(spec));
  assert.ok(renderChart(spec).includes('<title>routed &lt;policy&gt; &amp; &quot;bare&quot;</title>'));
  assert.equal(escapeXml('a<b'), 'a&lt;b');
  assert.ok(renderChart(bars).startsWith('<svg xmlns="http://www.w3.org/2000/svg"'));
  assert.ok(renderChart(bars).trimEnd().endsWith('</svg>'));
});

test('malformed specs are refused with the chart, series and fix named', () => {
  const bad: [Partial<ChartSpec>, RegExp][] = [
    [{ categories: [] }, /no categories/],
    [{ series: [] }, /no series/],
    [{ series: [{ name: 'routed', values: [1] }] }, /series "routed" has 1 values for 2 categories; give one value/],
    [{ series: [{ name: 'x', values: [1, -2] }] }, /series "x" has value -2; values must be finite and >= 0/],
    [{ series: [{ name: 'x', values: [1, Number.NaN] }] }, /value NaN/],
  ];
  for (const [patch, message] of bad) {
    assert.throws(() => renderChart({ ...bars, ...patch }), (e: unknown) => e instanceof CalicoError && e.kind === 'invalid-argument' && message.test(e.message) && e.message.includes('chart "TCP throughput"'));
  }
});

test('a legend too wide for one row wraps instead of running off the chart', () => {
  const names = ['routed + policy', 'routed, no policy', 'VXLAN overlay (bridge)', 'host to host (bare)'];
  const svg = renderChart({ kind: 'bar', title: 't', yLabel: 'y', categories: ['a'], series: names.map((name) => ({ name, values: [1] })) });
  const boxes = [...svg.matchAll(/<rect class="legend" x="([\d.]+)" y="([\d.]+)"/g)].map((m) => ({ x: Number(m[1]), y: Number(m[2]) }));
  assert.equal(boxes.length, 4);
  const rightmost = Math.max(...boxes.map((b, i) => b.x + 16 + names[i]!.length * 7));
  assert.ok(rightmost <= 640, `legend ends at ${rightmost}`);
  assert.equal(new Set(boxes.map((b) => b.y)).size, 2, 'two rows');
  assert.ok(Math.max(...boxes.map((b) => b.y)) + 12 <= 360, 'inside the chart');
});
