/**
 * @module cli/commands/config — `tlsrpt config path`: which config file commands use and why
 * (`--config`, `$TLSRPT_CONFIG`, `./tlsrpt.json`, `/etc/tlsrpt/tlsrpt.json`, or none: defaults).
 */
import type { Command } from 'commander';
import { withConfig, withJson, type CommonOptions } from '../options.js';

export function register(program: Command): void {
  const config = program.command('config').description('where the configuration comes from');
  withJson(withConfig(config.command('path')))
    .description('print the config file in use: --config, else $TLSRPT_CONFIG, else ./tlsrpt.json, else /etc/tlsrpt/tlsrpt.json, else none (built-in defaults)')
    .action(async (opts: CommonOptions) => {
      const { lookupConfig } = await import('../../settings/config.js');
      const found = lookupConfig(opts.config);
      if (opts.json) process.stdout.write(`${JSON.stringify({ file: found.file ?? null, source: found.source })}\n`);
      else if (found.file) process.stdout.write(`${found.file}\n`);
      else process.stdout.write('none: no config file found (looked for $TLSRPT_CONFIG, ./tlsrpt.json, /etc/tlsrpt/tlsrpt.json); built-in defaults are used\n');
      if (found.file && !opts.json) process.stderr.write(`tlsrpt config: found by ${found.source}\n`);
    });
}
