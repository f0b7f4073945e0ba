// Number, percentage and date formatting shared by the pages (fixed en-US grouping, so figures
// read the same on every machine and tests can find them).
const nf = new Intl.NumberFormat('en-US');

export const count = (n: number): string => nf.format(n);
export const percent = (r: number): string => `${(r * 100).toFixed(r > 0 && r < 0.001 ? 3 : 1)}%`;
/** `2026-11-20 13:05 UTC` from an RFC 3339 string. */
export const when = (iso?: string | null): string => (iso ? iso.replace('T', ' ').replace(/(:\d\d)(\.\d+)?Z$/, '$1').replace(/:\d\d$/, '') + ' UTC' : '—');
export const orDash = (v: unknown): string => (v === undefined || v === null || v === '' ? '—' : String(v));

export function duration(seconds: number): string {
  const d = Math.floor(seconds / 86400), h = Math.floor((seconds % 86400) / 3600), m = Math.floor((seconds % 3600) / 60);
  return d ? `${d} d ${h} h` : h ? `${h} h ${m} min` : `${m} min ${seconds % 60} s`;
}
