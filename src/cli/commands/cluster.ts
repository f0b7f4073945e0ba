/**
 * @module cli/commands/cluster — `tlsrpt cluster status [--json]`: the nodes sharing the store
 * (one PostgreSQL database, or one SQLite file for `serve` and library collectors), each with its
 * last heartbeat, the reports and targets it holds claimed and its journal of acknowledged events.
 */
import type { Command } from 'commander';
import { configFrom, withConfig, withJson, type CommonOptions } from '../options.js';

export function register(program: Command): void {
  const cluster = program.command('cluster').description('the nodes sharing one store: heartbeats, claims, journals');
  withJson(withConfig(cluster.command('status')))
    .description('list the nodes sharing the store, their last heartbeat, what each holds claimed and in its journal')
    .action(async (opts: CommonOptions) => {
      const { config } = configFrom(opts);
      const { openStore } = await import('../../store/index.js');
      const { clusterStatus, clusterStatusText, clusterStatusToJson } = await import('../../cluster/status.js');
      const store = await openStore(config.store);
      try {
        const s = await clusterStatus(store);
        process.stdout.write(`${opts.json ? JSON.stringify(clusterStatusToJson(s)) : clusterStatusText(s)}\n`);
      } finally {
        await store.close();
      }
    });
}
