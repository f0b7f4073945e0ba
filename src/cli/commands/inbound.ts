/**
 * @module cli/commands/inbound — `tlsrpt inbound list|show ID|summary`: what other organisations
 * reported about our domains, from the configured store (works while `serve` runs on it).
 * Readable tables by default; `--json` for one JSON document (the same as the HTTP API's).
 */
import type { Command } from 'commander';
import { openConfiguredStore, withConfig, withJson, type CommonOptions } from '../options.js';

interface FilterOptions extends CommonOptions {
  domain?: string;
  reporter?: string;
  from?: string;
  to?: string;
  hasFailures?: string | boolean;
  limit?: string;
  offset?: string;
  raw?: boolean;
}

/** Plain-text table: columns padded to their widest cell, numbers right-aligned. */
function table(headers: string[], rows: (string | number | null | undefined)[][]): string {
  const cells = rows.map((r) => r.map((v) => (v === null || v === undefined ? '-' : String(v).replace(/[\x00-\x1f\x7f]/g, ' '))));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const numeric = headers.map((_, i) => rows.length > 0 && rows.every((r) => typeof r[i] === 'number'));
  const line = (r: string[]) => r.map((v, i) => (numeric[i] ? v.padStart(widths[i] ?? 0) : v.padEnd(widths[i] ?? 0))).join('  ').trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n') + '\n';
}

function withFilters(cmd: Command, kind: 'list' | 'summary'): Command {
  cmd
    .option('--domain <domain>', 'only this policy domain')
    .option('--reporter <reporter>', "only this reporter (its organisational domain, or the report's organization-name)")
    .option('--from <when>', kind === 'summary' ? 'first day, YYYY-MM-DD' : 'reports starting at or after: YYYY-MM-DD, an RFC 3339 date-time or epoch seconds')
    .option('--to <when>', kind === 'summary' ? 'last day, YYYY-MM-DD (inclusive)' : 'reports starting before the end of: YYYY-MM-DD (inclusive), a date-time or epoch seconds');
  return cmd;
}

async function withStore<T>(opts: CommonOptions, fn: (store: import('../../store/index.js').Store) => Promise<T>): Promise<T> {
  const store = await openConfiguredStore(opts, 'read');
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

/** A bad filter is a usage error: say which and exit 2. */
async function guarded(name: string, fn: () => Promise<void>): Promise<void> {
  const { FilterError } = await import('../../analysis/filters.js');
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

const query = (opts: FilterOptions) => (name: string): string | undefined => {
  const v = (opts as Record<string, unknown>)[name];
  if (v === undefined) return undefined;
  return v === true ? 'true' : String(v);
};

export function register(program: Command): void {
  const inbound = program.command('inbound').description('reports received from other organisations: list, show one, summary per domain and day');

  withFilters(withJson(withConfig(inbound.command('list'))), 'list')
    .description('list stored reports, newest first')
    .option('--has-failures [yes|no]', 'only reports with (or, with "no", without) failed sessions')
    .option('--result-type <type>', 'only reports with a failure of this result type (e.g. certificate-expired)')
    .option('--mx <host>', 'only reports with a failure at this receiving MX host')
    .option('--ip <address>', 'only reports with a failure at this receiving IP')
    .option('--limit <n>', 'at most this many (1-1000)', '50')
    .option('--offset <n>', 'skip this many (paging)')
    .action((opts: FilterOptions) =>
      guarded('list', async () => {
        const { listFilterFromQuery } = await import('../../analysis/inbound-filters.js');
        const { listInboundReports } = await import('../../analysis/inbound-reports.js');
        const filter = listFilterFromQuery(query(opts));
        const list = await withStore(opts, (store) => listInboundReports(store, filter));
        if (opts.json) {
          process.stdout.write(JSON.stringify(list) + '\n');
          return;
        }
        process.stdout.write(table(
          ['ID', 'DAY', 'REPORTER', 'POLICY DOMAINS', 'OK', 'FAILED', 'DKIM', 'CHANNEL', 'REPORT-ID'],
          list.reports.map((r) => [r.id, r.day, r.reporter, r.policyDomains.join(' '), r.successful, r.failed,
            r.dkim.result + (r.dkim.aligned ? '' : r.dkim.result === 'none' ? '' : ' (unaligned)'), r.channel, r.reportId]),
        ));
        const last = list.offset + list.reports.length;
        process.stdout.write(`${list.reports.length ? `${list.offset + 1}-${last}` : '0'} of ${list.total} report(s)${last < list.total ? ` — next page: --offset ${last}` : ''}\n`);
      }),
    );

  withJson(withConfig(inbound.command('show')))
    .description('one stored report: the normalised report, its findings, DKIM result and where it came from')
    .argument('<id>', 'report id (from `tlsrpt inbound list`)')
    .option('--raw', 'write the raw bytes as received (e.g. the whole e-mail) to stdout instead')
    .action((idText: string, opts: FilterOptions) =>
      guarded('show', async () => {
        if (!/^\d{1,15}$/.test(idText)) {
          process.stderr.write(`tlsrpt inbound show: the id must be a number (see tlsrpt inbound list), got ${JSON.stringify(idText)}\n`);
          process.exit(2);
        }
        const { getInboundReport } = await import('../../analysis/inbound-reports.js');
        const detail = await withStore(opts, (store) => getInboundReport(store, Number(idText)));
        if (!detail) {
          process.stderr.write(`tlsrpt inbound show: no inbound report with id ${idText}\n`);
          process.exitCode = 1;
          return;
        }
        if (opts.raw) {
          process.stdout.write(Buffer.from(detail.raw, 'base64'));
          return;
        }
        if (opts.json) {
          process.stdout.write(JSON.stringify(detail) + '\n');
          return;
        }
        const out: string[] = [
          `Report ${detail.id}: ${detail.reportId}`,
          `  reporter        ${detail.reporter} (${detail.organizationName}${detail.contactInfo ? `, ${detail.contactInfo}` : ''})`,
          `  period          ${detail.startDatetime} .. ${detail.endDatetime}`,
          `  received        ${detail.receivedAt} by ${detail.channel}${detail.peer ? ` from ${detail.peer}` : ''}${detail.source ? ` (${detail.source})` : ''}`,
          `  DKIM            ${detail.dkim.result}${detail.dkim.domain ? ` d=${detail.dkim.domain}` : ''}${detail.dkim.result !== 'none' ? (detail.dkim.aligned ? ' aligned' : ' NOT aligned') : ''}`,
          `  sessions        ${detail.successful} successful, ${detail.failed} failed`,
          '',
        ];
        process.stdout.write(out.join('\n'));
        const rows: (string | number | null)[][] = [];
        for (const p of detail.report.policies) {
          rows.push([p.policy.policyDomain, p.policy.policyType, p.summary.totalSuccessfulSessionCount, p.summary.totalFailureSessionCount, null, null, null, null]);
          for (const d of p.failureDetails) {
            rows.push(['', '', null, null, d.resultType, d.receivingMxHostname ?? null, d.receivingIp ?? null, d.failedSessionCount]);
          }
        }
        process.stdout.write(table(['POLICY DOMAIN', 'TYPE', 'OK', 'FAILED', 'RESULT TYPE', 'RECEIVING MX', 'RECEIVING IP', 'COUNT'], rows));
        if (detail.findings.length) {
          process.stdout.write(`\nFindings (deviations from RFC 8460 that were accepted):\n`);
          for (const f of detail.findings) process.stdout.write(`  ${f.code}${f.path ? ` at ${f.path}` : ''}: ${f.message}\n`);
        }
      }),
    );

  withFilters(withJson(withConfig(inbound.command('summary'))), 'summary')
    .description('successful and failed sessions per policy domain and day, per reporter and policy type; failures per result type, MX and IP')
    .action((opts: FilterOptions) =>
      guarded('summary', async () => {
        const { summaryFilterFromQuery } = await import('../../analysis/inbound-filters.js');
        const { inboundSummary } = await import('../../analysis/inbound-summary.js');
        const filter = summaryFilterFromQuery(query(opts));
        const summary = await withStore(opts, (store) => inboundSummary(store, filter));
        if (opts.json) {
          process.stdout.write(JSON.stringify(summary) + '\n');
          return;
        }
        if (!summary.rows.length) {
          process.stdout.write('no reports for these filters\n');
          return;
        }
        process.stdout.write(table(['POLICY DOMAIN', 'DAY', 'REPORTER', 'POLICY TYPE', 'SUCCESSFUL', 'FAILED', 'REPORTS'],
          summary.rows.map((r) => [r.policyDomain, r.day, r.reporter, r.policyType, r.successful, r.failed, r.reports])));
        if (summary.byResultType.length) {
          process.stdout.write('\nFailed sessions by result type\n');
          process.stdout.write(table(['POLICY DOMAIN', 'DAY', 'RESULT TYPE', 'FAILED'], summary.byResultType.map((r) => [r.policyDomain, r.day, r.resultType, r.failed])));
          process.stdout.write('\nFailed sessions by receiving MX\n');
          process.stdout.write(table(['POLICY DOMAIN', 'DAY', 'RECEIVING MX', 'FAILED'], summary.byReceivingMx.map((r) => [r.policyDomain, r.day, r.receivingMxHostname, r.failed])));
          process.stdout.write('\nFailed sessions by receiving IP\n');
          process.stdout.write(table(['POLICY DOMAIN', 'DAY', 'RECEIVING IP', 'FAILED'], summary.byReceivingIp.map((r) => [r.policyDomain, r.day, r.receivingIp, r.failed])));
        }
      }),
    );
}
