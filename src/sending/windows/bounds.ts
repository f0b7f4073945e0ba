/**
 * @module sending/windows/bounds — reporting windows in UTC (RFC 8460 §4.1: reports cover UTC
 * periods): hour, day, ISO week from Monday 00:00Z. Pure: no store, no clock.
 */
import type { WindowFrequency } from '../../store/tables/outbound.js';
import { DAY, HOUR, WEEK } from '../../common/time.js';

export type { WindowFrequency };
/** 1970-01-05T00:00:00Z, the first Monday of the epoch (1970-01-01 was a Thursday). */
const FIRST_MONDAY = 4 * DAY;

/**
 * The UTC window containing `epochSeconds` for a send frequency (docs/spec/settings.md: windows are
 * aligned to UTC; weekly = Monday 00:00Z to Sunday 23:59:59Z). `end` is exclusive.
 * `never` still collects (so switching sending back on loses nothing): it uses daily windows.
 * @example windowBounds('weekly', Date.parse('2026-11-28T17:00:00Z') / 1000) // → Monday 2026-11-23 … Monday 2026-11-30
 */
export function windowBounds(frequency: WindowFrequency, epochSeconds: number): { start: number; end: number } {
  const t = Math.floor(epochSeconds);
  switch (frequency) {
    case 'hourly': {
      const start = t - mod(t, HOUR);
      return { start, end: start + HOUR };
    }
    case 'weekly': {
      const start = t - mod(t - FIRST_MONDAY, WEEK);
      return { start, end: start + WEEK };
    }
    case 'daily':
    case 'never':
    default: {
      const start = t - mod(t, DAY);
      return { start, end: start + DAY };
    }
  }
}

const mod = (a: number, n: number) => ((a % n) + n) % n;
