/**
 * @module cli/commands/outbound/send — `tlsrpt outbound send [--now] [--json]`: closes the due
 * windows (with --now: every open window), builds their reports and sends every due report
 * (with --now: every pending one, and every target waiting for a retry, at once), printing what
 * happened per target. Safe while `serve` runs on the same store: every report and target is
 * claimed by one process only.
 */
import type { Command } from 'commander';
import { configFrom, withConfig, withJson, type CommonOptions } from '../../options.js';

export function register(outbound: Command): void {
  withJson(withConfig(outbound.command('send')))
    .option('--now', 'close the open windows and send everything pending or waiting for a retry immediately')
    .description('build and send due reports now (with --now: close open windows and send everything at once)')
    .action(async (opts: CommonOptions & { now?: boolean }) => {
      const { config } = configFrom(opts);
      const { log } = await import('../../../common/log.js');
      const { openStore } = await import('../../../store/index.js');
      const { openSettings } = await import('../../../settings/index.js');
      const { createDelivery } = await import('../../../sending/setup.js');
      const { isoSeconds } = await import('../../../common/time.js');
      const store = await openStore(config.store, { log });
      let settings;
      try {
        settings = await openSettings(store, config, log);
      } catch (e) {
        await store.close();
        throw e;
      }
      const delivery = createDelivery({ config, store, settings, log });
      try {
        const r = await delivery.scheduler.tick({ force: Boolean(opts.now) });
        if (opts.json) {
          process.stdout.write(`${JSON.stringify({
            closedWindows: r.closed,
            built: r.built.map((b) => ({ reportDomain: b.reportDomain, state: b.state, reportId: b.reportId, targets: b.targets, reason: b.reason })),
            targets: r.attempts.map((a) => ({
              reportDomain: a.reportDomain, reportId: a.reportId, uri: a.uri, state: a.state, attempts: a.attempts,
              detail: a.detail, nextAttemptAt: a.nextAttemptAt === undefined ? undefined : isoSeconds(a.nextAttemptAt),
            })),
          })}\n`);
        } else {
          const lines: string[] = [`closed ${r.closed} window(s), built ${r.built.filter((b) => b.state === 'pending').length} report(s)`];
          for (const b of r.built) if (b.state !== 'pending') lines.push(`  ${b.reportDomain}: no report (${b.state}: ${b.reason ?? ''})`);
          for (const a of r.attempts) {
            const next = a.nextAttemptAt === undefined ? '' : `, next attempt ${isoSeconds(a.nextAttemptAt)}`;
            lines.push(`  ${a.reportDomain} → ${a.uri}: ${a.state}${next} — ${JSON.stringify(a.detail).slice(1, -1)}`);
          }
          if (r.attempts.length === 0) lines.push('  nothing to send');
          process.stdout.write(`${lines.join('\n')}\n`);
        }
      } finally {
        await delivery.close();
        await settings.close();
        await store.close();
      }
    });
}
