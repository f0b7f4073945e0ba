// The domain page's daily chart (uPlot): successful sessions and failed sessions by result type,
// stacked per UTC day. uPlot has no stacking of its own: each series holds the running sum of the
// layers beneath it, drawn tallest first, and the legend shows each layer's own figure.
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { DomainDetail } from '../types';

const COLORS = ['#b3261e', '#e8710a', '#8e24aa', '#c2185b', '#5d4037', '#f9a825', '#0277bd', '#455a64', '#6d4c41', '#ad1457', '#00838f'];
const OK = '#2e7d32';

export interface Layer { label: string; values: number[]; color: string }

/** Bottom to top: failures by result type (plus what the details leave unexplained), then successes. */
export function layersOf(d: DomainDetail): Layer[] {
  const layers: Layer[] = d.resultTypes.map((t, i) => ({ label: t, color: COLORS[i % COLORS.length], values: d.daily.map((p) => p.byResultType[t] ?? 0) }));
  // Failure details need not add up to the summary's failed count (RFC 8460 allows leaving them out).
  const rest = d.daily.map((p) => Math.max(0, p.failed - Object.values(p.byResultType).reduce((a, b) => a + b, 0)));
  if (rest.some((v) => v > 0)) layers.push({ label: 'failed (no detail)', color: '#757575', values: rest });
  layers.push({ label: 'successful', color: OK, values: d.daily.map((p) => p.successful) });
  return layers;
}

export function DailyChart({ detail }: { detail: DomainDetail }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!box.current) return;
    const layers = layersOf(detail);
    const xs = detail.daily.map((p) => Date.parse(`${p.day}T00:00:00Z`) / 1000);
    const sums: number[][] = [];
    layers.forEach((l, i) => sums.push(l.values.map((v, j) => v + (i ? sums[i - 1][j] : 0))));
    const order = layers.map((_, i) => i).reverse();
    const bars = uPlot.paths.bars!({ size: [0.8, 40] });
    const plot = new uPlot({
      width: Math.max(320, box.current.clientWidth),
      height: 260,
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
      axes: [{ stroke: '#333' }, { stroke: '#333', size: 60 }],
      series: [
        { label: 'day' },
        ...order.map((i) => ({
          label: layers[i].label,
          fill: layers[i].color,
          stroke: layers[i].color,
          paths: bars,
          points: { show: false },
          value: (_u: uPlot, _v: number | null, _s: number, idx: number | null) => (idx == null ? '—' : String(layers[i].values[idx])),
        })),
      ],
    }, [xs, ...order.map((i) => sums[i])] as uPlot.AlignedData, box.current);
    return () => plot.destroy();
  }, [detail]);
  return <div ref={box} class="chart" role="img" aria-label={`sessions per day for ${detail.policyDomain}: successful and failed by result type (figures in the table below)`} />;
}
