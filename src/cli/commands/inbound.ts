/**
 * @module cli/commands/inbound — `tlsrpt inbound list|show ID|summary|export|drift DOMAIN`: what other
 * organisations reported about our domains, from the configured store (works while `serve` runs
 * on it). Readable text by default; `--json` (the HTTP API's document) or `--csv` on each.
 * One file per subcommand under ./inbound/, each exporting `register(inbound)`.
 */
import type { Command } from 'commander';

const SUBCOMMANDS = ['list', 'show', 'summary', 'export', 'drift'];

type Subcommand = { register(inbound: Command): void };

// Loaded at module evaluation (top-level await) so `register` stays synchronous for main.ts.
const modules: Subcommand[] = await Promise.all(SUBCOMMANDS.map((name) => import(`./inbound/${name}.js`) as Promise<Subcommand>));

export function register(program: Command): void {
  const inbound = program
    .command('inbound')
    .description('reports received from other organisations: list, show one, summary per domain, export for dashboards');
  for (const m of modules) m.register(inbound);
}
