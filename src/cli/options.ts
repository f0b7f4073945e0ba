/** @module cli/options — options every subcommand shares (`--config`, `--json`), loading the config and opening its store. */
import type { Command } from 'commander';
import { loadConfigFrom, type ConfigSource, type ServiceConfig } from '../settings/config.js';
import type { Store } from '../store/index.js';

export interface CommonOptions {
  config?: string;
  json?: boolean;
}

/** Adds `--config FILE` to a subcommand. */
export function withConfig(cmd: Command): Command {
  return cmd.option('-c, --config <file>', 'config file (default: $TLSRPT_CONFIG, else ./tlsrpt.json, else /etc/tlsrpt/tlsrpt.json; see `tlsrpt config path`)');
}

/** Adds `--json` (machine-readable output) to a subcommand. */
export function withJson(cmd: Command): Command {
  return cmd.option('--json', 'machine-readable output: one JSON document, or one JSON line per item; errors as {"error": {"code", "message"}}');
}

export function configFrom(opts: CommonOptions): { config: ServiceConfig; file?: string; source: ConfigSource } {
  return loadConfigFrom(opts.config);
}

/**
 * The store of the config. `read`: the command only reads, so a database that does not exist is
 * an error ("no database at X — is --config right?") instead of a new empty one.
 */
export async function openConfiguredStore(opts: CommonOptions, mode: 'read' | 'write', config = configFrom(opts).config): Promise<Store> {
  const { log } = await import('../common/log.js');
  const { openStore } = await import('../store/index.js');
  return openStore(config.store, { log: log.child({}, { level: 'warn' }), mustExist: mode === 'read' });
}
