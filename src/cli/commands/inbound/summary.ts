/**
 * @module cli/commands/inbound/summary — `tlsrpt inbound summary`: sessions per policy domain with
 * a totals row and failure percentages, per day and reporter, and failures by receiving MX ×
 * result type (which MX fails, and why). Defaults to the last 30 days (`--all` for everything).
 */
import type { Command } from 'commander';
import { withConfig, withJson } from '../../options.js';
import type { InboundSummary } from '../../../analysis/inbound-summary.js';
import { guarded, oneFormat, query, table, withCsv, withFilters, withStore, type FilterOptions } from './common.js';

export const DEFAULT_SUMMARY_DAYS = 30;

const pct = (failed: number, ok: number) => (failed + ok > 0 ? `${((100 * failed) / (failed + ok)).toFixed(1)}%` : '-');

/** The text view of a summary (what `tlsrpt inbound summary` prints). */
export function renderSummary(summary: InboundSummary, period: string): string {
  if (!summary.rows.length) return `no reports ${period}\n`;
  const perDomain = new Map<string, { successful: number; failed: number; reports: number }>();
  for (const t of summary.totals) {
    const d = perDomain.get(t.policyDomain) ?? { successful: 0, failed: 0, reports: 0 };
    d.successful += t.successful;
    d.failed += t.failed;
    d.reports += t.reports;
    perDomain.set(t.policyDomain, d);
  }
  const all = [...perDomain.values()].reduce((a, d) => ({ successful: a.successful + d.successful, failed: a.failed + d.failed }), { successful: 0, failed: 0 });
  const out: string[] = [`Sessions per policy domain ${period}`];
  out.push(table(['POLICY DOMAIN', 'REPORTS', 'SUCCESSFUL', 'FAILED', 'FAILED %'], [
    ...[...perDomain].map(([domain, d]) => [domain, d.reports, d.successful, d.failed, pct(d.failed, d.successful)]),
    ['TOTAL', null, all.successful, all.failed, pct(all.failed, all.successful)],
  ]));
  out.push('Per day and reporter');
  out.push(table(['POLICY DOMAIN', 'DAY', 'REPORTER', 'POLICY TYPE', 'SUCCESSFUL', 'FAILED', 'FAILED %', 'REPORTS'],
    summary.rows.map((r) => [r.policyDomain, r.day, r.reporter, r.policyType, r.successful, r.failed, pct(r.failed, r.successful), r.reports])));
  if (summary.byMxResultType.length) {
    out.push('Failed sessions by receiving MX and result type (from failure details; they need not add up to the totals)');
    out.push(table(['POLICY DOMAIN', 'RECEIVING MX', 'RESULT TYPE', 'FAILED', 'REPORTS'],
      summary.byMxResultType.map((r) => [r.policyDomain, r.receivingMxHostname ?? '(not given)', r.resultType, r.failed, r.reports])));
  }
  return out.join('\n');
}

export function register(inbound: Command): void {
  withFilters(withCsv(withJson(withConfig(inbound.command('summary')))), 'summary')
    .description(`sessions per policy domain (totals, failure %), per day and reporter, failures by MX × result type; last ${DEFAULT_SUMMARY_DAYS} days by default in the table (--json/--csv: every day unless --from/--to)`)
    .option('--all', 'every stored day, not only the last 30')
    .option('--breakdown <name>', 'with --csv: rows, totals, result-type, mx, ip or mx-result-type', 'rows')
    .action((opts: FilterOptions & { all?: boolean; breakdown: string }) =>
      guarded('summary', async () => {
        oneFormat('summary', opts);
        const { summaryFilterFromQuery } = await import('../../../analysis/inbound-filters.js');
        const { inboundSummary } = await import('../../../analysis/inbound-summary.js');
        const { dayString, FilterError } = await import('../../../analysis/filters.js');
        const { isSummaryBreakdown, summaryCsv, SUMMARY_BREAKDOWNS } = await import('../../../analysis/inbound-csv.js');
        if (!isSummaryBreakdown(opts.breakdown)) throw new FilterError('breakdown', `expected one of ${Object.keys(SUMMARY_BREAKDOWNS).join(', ')}`);
        const filter = summaryFilterFromQuery(query(opts));
        // The 30-day default is for a person reading the table; --json and --csv feed scripts and
        // dashboards that sum totals, which must see every stored day unless they ask for a range.
        if (!opts.all && !opts.json && !opts.csv && filter.fromDay === undefined && filter.toDay === undefined) {
          const today = Math.floor(Date.now() / 86_400_000);
          filter.fromDay = today - (DEFAULT_SUMMARY_DAYS - 1);
          filter.toDay = today;
        }
        const summary = await withStore(opts, (store) => inboundSummary(store, filter));
        if (opts.json) process.stdout.write(JSON.stringify(summary) + '\n');
        else if (opts.csv) process.stdout.write(summaryCsv(summary, opts.breakdown));
        else {
          const from = filter.fromDay !== undefined ? dayString(filter.fromDay) : undefined;
          const to = filter.toDay !== undefined ? dayString(filter.toDay) : undefined;
          const period = from && to ? `from ${from} to ${to}` : from ? `from ${from}` : to ? `until ${to}` : '(all days)';
          process.stdout.write(renderSummary(summary, period));
        }
      }),
    );
}
