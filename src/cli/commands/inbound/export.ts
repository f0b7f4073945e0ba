/**
 * @module cli/commands/inbound/export — `tlsrpt inbound export --format parsedmarc-json|parsedmarc-csv|ndjson`:
 * every stored report matching the filters in parsedmarc's SMTP TLS shapes, streamed to stdout
 * (or `--output FILE`), so parsedmarc dashboards and pipelines take them unchanged.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { Command } from 'commander';
import { withConfig } from '../../options.js';
import { guarded, query, withDetailFilters, withFilters, withStore, type FilterOptions } from './common.js';

export function register(inbound: Command): void {
  withDetailFilters(withFilters(withConfig(inbound.command('export')), 'list'))
    .description("stored reports in parsedmarc's SMTP TLS shapes (JSON array, CSV) or as NDJSON, oldest first")
    .option('--format <format>', 'parsedmarc-json, parsedmarc-csv or ndjson', 'parsedmarc-json')
    .option('-o, --output <file>', 'write to this file instead of stdout')
    .action((opts: FilterOptions & { format: string; output?: string }) =>
      guarded('export', async () => {
        const { exportInbound, parseExportFormat } = await import('../../../analysis/export.js');
        const { listFilterFromQuery } = await import('../../../analysis/inbound-filters.js');
        const format = parseExportFormat(opts.format);
        const filter = listFilterFromQuery(query(opts));
        const out: Writable = opts.output ? createWriteStream(opts.output) : process.stdout;
        await withStore(opts, async (store) => {
          for await (const chunk of exportInbound(store, format, filter)) {
            // Back-pressure: a slow reader (a pipe to gzip, a full disk) holds the query, not memory.
            if (!out.write(chunk)) await once(out, 'drain');
          }
        });
        if (opts.output) {
          out.end();
          await once(out, 'finish');
          process.stderr.write(`tlsrpt inbound export: wrote ${opts.output} (${format})\n`);
        }
      }),
    );
}
