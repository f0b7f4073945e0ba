/** @module cli/commands/inbound/list — `tlsrpt inbound list`: stored reports, newest first, with filters and paging. */
import type { Command } from 'commander';
import { withConfig, withJson } from '../../options.js';
import { guarded, oneFormat, query, table, withCsv, withDetailFilters, withFilters, withStore, type FilterOptions } from './common.js';

export function register(inbound: Command): void {
  withDetailFilters(withFilters(withCsv(withJson(withConfig(inbound.command('list')))), 'list'))
    .description('list stored reports, newest first')
    .option('--limit <n>', 'at most this many (1-1000)', '50')
    .option('--offset <n>', 'skip this many (paging)')
    .action((opts: FilterOptions) =>
      guarded('list', async () => {
        oneFormat('list', opts);
        const { listFilterFromQuery } = await import('../../../analysis/inbound-filters.js');
        const { listInboundReports } = await import('../../../analysis/inbound-reports.js');
        const filter = listFilterFromQuery(query(opts));
        const list = await withStore(opts, (store) => listInboundReports(store, filter));
        if (opts.json) {
          process.stdout.write(JSON.stringify(list) + '\n');
          return;
        }
        if (opts.csv) {
          const { listCsv } = await import('../../../analysis/inbound-csv.js');
          process.stdout.write(listCsv(list));
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
}
