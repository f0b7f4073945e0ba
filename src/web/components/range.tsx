// The range picker of the overview and domain pages: the last N days, kept in the URL (?days=).
import { navigate } from '../router';

export const RANGES = [7, 30, 90, 365, 3650] as const;

export function RangePicker({ days, path }: { days: number; path: string }) {
  return (
    <label class="range">
      Range{' '}
      <select value={String(days)} onChange={(e) => navigate(`${path}?days=${(e.target as HTMLSelectElement).value}`)}>
        {RANGES.map((d) => <option value={String(d)} key={d}>{d === 3650 ? 'last 10 years' : `last ${d} days`}</option>)}
      </select>
    </label>
  );
}

export function daysFrom(q: URLSearchParams): number {
  const n = Number(q.get('days') ?? 30);
  return Number.isInteger(n) && n >= 1 && n <= 3660 ? n : 30;
}
