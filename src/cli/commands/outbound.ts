/**
 * @module cli/commands/outbound — `tlsrpt outbound …`: what the sending side collected and will
 * report. One file per subcommand under ./outbound/, each exporting `register(outbound)`.
 */
import type { Command } from 'commander';

/** The subcommands, one per line (a subcommand whose file is absent is left out). */
const SUBCOMMANDS = [
  'list',
  'preview',
  'send',
];

type Subcommand = { register(outbound: Command): void };

// Loaded at module evaluation (top-level await) so `register` stays synchronous for main.ts.
const modules: Subcommand[] = [];
for (const name of new Set(SUBCOMMANDS)) {
  try {
    modules.push(await import(`./outbound/${name}.js`));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' && String((e as Error).message).includes(`outbound/${name}.`)) continue;
    throw e;
  }
}

export function register(program: Command): void {
  const outbound = program
    .command('outbound')
    .description('the sending side: collected TLS outcomes per open window, report previews, sending');
  for (const m of modules) m.register(outbound);
}
