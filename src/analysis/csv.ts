/**
 * @module analysis/csv — CSV (RFC 4180) of query results, safe to open in a spreadsheet: a text
 * cell starting with `=`, `+`, `-`, `@`, TAB or CR is prefixed with `'` so it is never run as a
 * formula (report fields come from strangers: organization-name, MX names, reason codes…).
 */

export type CsvValue = string | number | boolean | null | undefined;

export function csvCell(value: CsvValue): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  let s = value;
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * @example toCsv(['day', 'failed'], [{ day: '2024-02-22', failed: 3 }]) // 'day,failed\r\n2024-02-22,3\r\n'
 */
export function toCsv<T extends Record<string, unknown>>(columns: readonly (keyof T & string)[], rows: readonly T[]): string {
  const lines = [columns.map((c) => csvCell(c)).join(',')];
  for (const r of rows) lines.push(columns.map((c) => csvCell(r[c] as CsvValue)).join(','));
  return lines.join('\r\n') + '\r\n';
}
