/**
 * @module common/time — time as the service keeps it: integer epoch seconds (the store's unit),
 * an injectable clock, and the RFC 3339 seconds form RFC 8460 §4.4 uses for date-range.
 */

export const HOUR = 3600;
export const DAY = 86400;
export const WEEK = 7 * DAY;

/** A clock in epoch seconds; pass one in so tests can stop time (never read the wall clock deep inside). */
export type Clock = () => number;

/** The wall clock, in whole epoch seconds. */
export const systemClock: Clock = () => Math.floor(Date.now() / 1000);

const pad2 = (n: number) => (n < 10 ? '0' + n : '' + n);

/**
 * Epoch milliseconds → `YYYY-MM-DDTHH:MM:SSZ`, or undefined outside years 0000–9999.
 * Arithmetic only (days → civil date, H. Hinnant's algorithm): Date objects cost more on hot paths.
 * @example isoFromEpochMs(0) // → '1970-01-01T00:00:00Z'
 */
export function isoFromEpochMs(ms: number): string | undefined {
  if (!(ms >= -62167219200000 && ms <= 253402300799999)) return undefined;
  const secs = Math.floor(ms / 1000);
  const days = Math.floor(secs / 86400);
  const sod = secs - days * 86400;
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  const yyyy = y < 10 ? '000' + y : y < 100 ? '00' + y : y < 1000 ? '0' + y : '' + y;
  return `${yyyy}-${pad2(m)}-${pad2(d)}T${pad2(Math.floor(sod / 3600))}:${pad2(Math.floor(sod / 60) % 60)}:${pad2(sod % 60)}Z`;
}

/**
 * Epoch seconds → RFC 3339 UTC with seconds precision and `Z` (RFC 8460 §4.4 date-time).
 * @example isoSeconds(1764288000) // → '2025-11-28T00:00:00Z'
 */
export function isoSeconds(epochSeconds: number): string {
  const iso = isoFromEpochMs(epochSeconds * 1000);
  if (iso === undefined) throw new RangeError(`time ${epochSeconds} s is outside years 0000–9999`);
  return iso;
}
