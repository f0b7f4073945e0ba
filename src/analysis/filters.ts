/**
 * @module analysis/filters — reading query filters from text (HTTP query strings, CLI flags):
 * days (`YYYY-MM-DD`), time bounds (a day, an RFC 3339 date-time or epoch seconds), booleans
 * and paging. Pure; a bad value is a `FilterError` naming the filter and what was expected.
 */

export const DAY_SECONDS = 86400;

export class FilterError extends Error {
  override name = 'FilterError';
  readonly code = 'bad-filter';
  constructor(readonly filter: string, message: string) {
    super(`${filter}: ${message}`);
  }
}

/** `YYYY-MM-DD` of a UTC day number (epoch seconds / 86400). */
export function dayString(day: number): string {
  return new Date(day * DAY_SECONDS * 1000).toISOString().slice(0, 10);
}

/** The UTC day number of `YYYY-MM-DD`. */
export function parseDay(filter: string, text: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text.trim());
  const ms = m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : NaN;
  const d = new Date(ms);
  if (!m || !Number.isFinite(ms) || d.getUTCDate() !== Number(m[3]) || d.getUTCMonth() !== Number(m[2]) - 1) {
    throw new FilterError(filter, `expected a day as YYYY-MM-DD, got ${JSON.stringify(text)}`);
  }
  return ms / 1000 / DAY_SECONDS;
}

/**
 * A time bound in epoch seconds. A day means its whole extent: `from` its first second, `to`
 * the end of that day (so `from=2024-02-22&to=2024-02-22` is that one day). Also accepts an
 * RFC 3339 date-time or epoch seconds (taken as given). `to` is exclusive.
 */
export function parseTimeBound(filter: string, text: string, side: 'from' | 'to'): number {
  const t = text.trim();
  if (/^\d{4}-\d{2}-\d{2}$/.test(t)) {
    const day = parseDay(filter, t);
    return (side === 'from' ? day : day + 1) * DAY_SECONDS;
  }
  if (/^\d{1,12}$/.test(t)) return Number(t);
  const ms = Date.parse(t);
  if (/^\d{4}-\d{2}-\d{2}T/.test(t) && Number.isFinite(ms)) return Math.floor(ms / 1000);
  throw new FilterError(filter, `expected YYYY-MM-DD, an RFC 3339 date-time or epoch seconds, got ${JSON.stringify(text)}`);
}

export function parseBool(filter: string, text: string): boolean {
  const t = text.trim().toLowerCase();
  if (['1', 'true', 'yes', ''].includes(t)) return true;
  if (['0', 'false', 'no'].includes(t)) return false;
  throw new FilterError(filter, `expected true or false, got ${JSON.stringify(text)}`);
}

export function parseCount(filter: string, text: string, min: number, max: number): number {
  const t = text.trim();
  if (!/^\d{1,9}$/.test(t) || Number(t) < min || Number(t) > max) {
    throw new FilterError(filter, `expected a whole number from ${min} to ${max}, got ${JSON.stringify(text)}`);
  }
  return Number(t);
}


