/** @module cli/options — options every subcommand shares (`--config`, `--json`) and their loading. */
import type { Command } from 'commander';
import { loadConfig, resolveConfigPath, type ServiceConfig } from '../settings/config.js';

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
  const file = resolveConfigPath(opts.config);
  return { config: loadConfig(file), file };
}
