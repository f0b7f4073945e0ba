/** @module cli/options — options every subcommand shares (`--config`, `--json`) and their loading. */
import type { Command } from 'commander';
import type { ServiceConfig } from '../settings/config.js';

// The config module brings zod and every schema (a third of `tlsrpt --help`'s start-up):
// main.ts loads it in a preAction hook, so only a command that runs pays for it.
let configModule: typeof import('../settings/config.js') | undefined;
export async function loadConfigModule(): Promise<void> {
  configModule ??= await import('../settings/config.js');
}

export interface CommonOptions {
  config?: string;
  json?: boolean;
}

/** Adds `--config FILE` to a subcommand. */
export function withConfig(cmd: Command): Command {
  return cmd.option('-c, --config <file>', 'config file (default: ./tlsrpt.json when present)');
}

/** Adds `--json` (machine-readable output) to a subcommand. */
export function withJson(cmd: Command): Command {
  return cmd.option('--json', 'machine-readable output: one JSON document, or one JSON line per item');
}

export function configFrom(opts: CommonOptions): { config: ServiceConfig; file?: string } {
  if (!configModule) throw new Error('internal error: configFrom() before loadConfigModule() (cli/main.ts preAction hook)');
  const file = configModule.resolveConfigPath(opts.config);
  return { config: configModule.loadConfig(file), file };
}
