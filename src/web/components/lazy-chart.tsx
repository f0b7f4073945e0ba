// Loads the chart code (uPlot, about half the bundle) only when a page shows a chart, so the
// overview — the first page after sign-in — downloads and parses less.
import { useEffect, useState } from 'preact/hooks';
import type { DomainDetail } from '../types';

type ChartComponent = (props: { detail: DomainDetail }) => preact.JSX.Element;
let loaded: ChartComponent | undefined;

export function LazyDailyChart({ detail }: { detail: DomainDetail }) {
  const [Chart, setChart] = useState<ChartComponent | undefined>(() => loaded);
  const [error, setError] = useState<string>();
  useEffect(() => {
    if (Chart) return;
    import('./daily-chart').then((m) => {
      loaded = m.DailyChart;
      setChart(() => m.DailyChart);
    }, (e: Error) => setError(e.message));
  }, []);
  if (error) return <p class="error">The chart could not be loaded: {error}</p>;
  return Chart ? <Chart detail={detail} /> : <div class="chart" role="status">Loading the chart…</div>;
}
