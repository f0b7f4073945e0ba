/**
 * @module cli/commands/outbound/preview — `tlsrpt outbound preview DOMAIN`: the exact report JSON
 * (RFC 8460 §4, pretty-printed) the report domain (the recipient domain whose TLSRPT record names
 * the targets; a DANE policy inside keeps its MX host as policy-domain) would receive for its current open window,
 * built by the same code and settings as the real report. Only the JSON goes to stdout.
 */
import type { Command } from 'commander';
import { configFrom, openConfiguredStore, withConfig, withJson, type CommonOptions } from '../../options.js';

export function register(outbound: Command): void {
  withJson(withConfig(outbound.command('preview')))
    .argument('<domain>', 'report domain: the recipient domain whose TLSRPT record names the targets')
    .description('print the exact report JSON DOMAIN would receive for its current window')
    .action(async (domain: string, opts: CommonOptions) => {
      const { config } = configFrom(opts);
      const { log } = await import('../../../common/log.js');
      const { openSettings } = await import('../../../settings/index.js');
      const { listOpenWindows } = await import('../../../analysis/outbound-windows.js');
      const { composeReport } = await import('../../../sending/report/report-builder.js');
      const store = await openConfiguredStore(opts, 'read', config);
      const settings = await openSettings(store, config, log).catch(async (e) => {
        await store.close();
        throw e;
      });
      try {
        const now = Math.floor(Date.now() / 1000);
        const windows = await listOpenWindows(store, { reportDomain: domain });
        // The window holding now; else the latest still open (one the scheduler has not closed yet).
        const current = windows.find((w) => w.windowStart <= now && now < w.windowEnd) ?? windows.sort((a, b) => b.windowStart - a.windowStart)[0];
        if (!current) {
          process.stderr.write(`tlsrpt: no open window for ${domain}: nothing has been collected for it yet (see tlsrpt outbound list)\n`);
          process.exitCode = 1;
          return;
        }
        const composed = composeReport(current, settings, log);
        if (composed.trimmedDetails) process.stderr.write(`tlsrpt: ${composed.trimmedDetails} failure-detail rows dropped to fit maxReportSize (totals unchanged)\n`);
        const doc = JSON.parse(composed.json);
        process.stdout.write(opts.json ? `${composed.json}\n` : `${JSON.stringify(doc, null, 2)}\n`);
      } finally {
        await settings.close();
        await store.close();
      }
    });
}
