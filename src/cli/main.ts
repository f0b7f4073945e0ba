/** @module cli/main — the `tlsrpt` command: global options and the table of subcommands. */
import { Command, CommanderError } from 'commander';

/** One file per subcommand under ./commands, each exporting `register(program)`. */
const COMMANDS = ['serve', 'parse', 'record', 'expr', 'settings', 'import', 'inbound', 'outbound'];

const program = new Command('tlsrpt')
  .description('SMTP TLS Reporting (RFC 8460): send, receive and analyse TLS reports')
  .version('0.1.0')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();

for (const name of COMMANDS) {
  let mod: { register(p: Command): void };
  try {
    mod = await import(`./commands/${name}.js`);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' && String((e as Error).message).includes(`commands/${name}.`)) continue;
    throw e;
  }
  mod.register(program);
}

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) process.exit(e.exitCode);
  const err = e as Error & { code?: string };
  process.stderr.write(`tlsrpt: ${err.name === 'ConfigError' ? '' : ''}${err.message}\n`);
  process.exit(2);
}
