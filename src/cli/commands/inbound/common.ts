/**
 * @module cli/commands/inbound/common — what the `tlsrpt inbound …` subcommands share: the
 * filter flags, opening the configured store, usage errors (exit 2), plain-text tables and CSV.
 */
import type { Command } from 'commander';
import type { Store } from '../../../store/index.js';
import { openConfiguredStore, type CommonOptions } from '../../options.js';

export interface FilterOptions extends CommonOptions {
  csv?: boolean;
  domain?: string;
  reporter?: string;
  from?: string;
  to?: string;
  hasFailures?: string | boolean;
  resultType?: string;
  mx?: string;
  ip?: string;
  limit?: string;
  offset?: string;
}

/** Plain-text table: columns padded to their widest cell, numbers right-aligned, control characters blanked. */
export function table(headers: string[], rows: (string | number | null | undefined)[][]): string {
  const cells = rows.map((r) => r.map((v) => (v === null || v === undefined ? '-' : String(v).replace(/[\x00-\x1f\x7f]/g, ' '))));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const numeric = headers.map((_, i) => rows.length > 0 && rows.every((r) => typeof r[i] === 'number' || r[i] === null || r[i] === undefined));
  const line = (r: string[]) => r.map((v, i) => (numeric[i] ? v.padStart(widths[i] ?? 0) : v.padEnd(widths[i] ?? 0))).join('  ').trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n') + '\n';
}

/** Text from a report for one terminal line: control characters (a hostile sender's ANSI escapes) blanked. */
export const clean = (v: unknown): string => String(v).replace(/[\x00-\x1f\x7f]/g, ' ');

export function withFilters(cmd: Command, kind: 'list' | 'summary'): Command {
  return cmd
    .option('--domain <domain>', 'only this policy domain')
    .option('--reporter <reporter>', "only this reporter (its organisational domain, or the report's organization-name)")
    .option('--from <when>', kind === 'summary' ? 'first day, YYYY-MM-DD (default: 30 days ago)' : 'reports starting at or after: YYYY-MM-DD, an RFC 3339 date-time or epoch seconds')
    .option('--to <when>', kind === 'summary' ? 'last day, YYYY-MM-DD (inclusive; default: today)' : 'reports starting before the end of: YYYY-MM-DD (inclusive), a date-time or epoch seconds');
}

/** The report filters of `list` and `export` (result type, MX, IP, failures). */
export function withDetailFilters(cmd: Command): Command {
  return cmd
    .option('--has-failures [yes|no]', 'only reports with (or, with "no", without) failed sessions')
    .option('--result-type <type>', 'only reports with a failure of this result type (e.g. certificate-expired)')
    .option('--mx <host>', 'only reports with a failure at this receiving MX host')
    .option('--ip <address>', 'only reports with a failure at this receiving IP');
}

export function withCsv(cmd: Command): Command {
  return cmd.option('--csv', 'CSV (RFC 4180, spreadsheet-safe cells) instead of a table');
}

/** The config's store; `read` (the default) never creates a database: "no database at X — is --config right?". */
export async function withStore<T>(opts: CommonOptions, fn: (store: Store) => Promise<T>, mode: 'read' | 'write' = 'read'): Promise<T> {
  const store = await openConfiguredStore(opts, mode);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

/** A bad filter is a usage error: say which and exit 2. */
export async function guarded(name: string, fn: () => Promise<void>): Promise<void> {
  const { FilterError } = await import('../../../analysis/filters.js');
  try {
    await fn();
  } catch (e) {
    if (e instanceof FilterError) {
      process.stderr.write(`tlsrpt inbound ${name}: --${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
}

/** Option values by their HTTP query names, so one parser reads both. */
export const query = (opts: FilterOptions) => (name: string): string | undefined => {
  const camel = name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
  const v = (opts as Record<string, unknown>)[camel];
  if (v === undefined) return undefined;
  return v === true ? 'true' : String(v);
};

/** `--json` and `--csv` exclude each other. */
export function oneFormat(name: string, opts: FilterOptions): void {
  if (opts.json && opts.csv) {
    process.stderr.write(`tlsrpt inbound ${name}: --json and --csv exclude each other; pick one\n`);
    process.exit(2);
  }
}
