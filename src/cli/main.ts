/** @module cli/main — the `tlsrpt` command: global options and the table of subcommands. */
import { Command, CommanderError } from 'commander';

/** One file per subcommand under ./commands, each exporting `register(program)`. */
const COMMANDS = ['serve', 'parse', 'record', 'expr', 'settings', 'import', 'inbound', 'outbound', 'config', 'cluster', 'check'];

// `tlsrpt inbound list | head`: a reader that stops early is not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
}

const program = new Command('tlsrpt')
  .description('SMTP TLS Reporting (RFC 8460): send, receive and analyse TLS reports')
  .version('0.1.0')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride()
  .addHelpText('after', '\nExit codes: 0 ok, 1 failed, 2 usage or configuration error. With --json, errors are JSON too: {"error": {"code", "message"}} on stdout.');

// Every subcommand module is loaded up front, but each imports its heavy parts (store, service)
// only inside its action, so `tlsrpt --help` and `tlsrpt parse` start fast.
const modules = await Promise.all(COMMANDS.map((name) => import(`./commands/${name}.js`) as Promise<{ register(p: Command): void }>));
for (const mod of modules) mod.register(program);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError && (e.exitCode === 0 || !process.argv.includes('--json'))) process.exit(e.exitCode === 1 ? 2 : e.exitCode);
  const { describeCliError } = await import('./errors.js');
  const { code, message, exitCode } = describeCliError(e);
  if (process.argv.includes('--json')) process.stdout.write(`${JSON.stringify({ error: { code, message } })}\n`);
  else process.stderr.write(`tlsrpt: ${message}\n`);
  process.exit(exitCode);
}
