/** @module cli/main — the `tlsrpt` command: global options and the table of subcommands. */
import { Command, CommanderError } from 'commander';
import { loadConfigModule } from './options.js';

/** One file per subcommand under ./commands, each exporting `register(program)`. */
const COMMANDS = ['serve', 'parse', 'record', 'expr', 'settings', 'import', 'inbound', 'outbound', 'completion'];

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
  .hook('preAction', () => loadConfigModule());

// Every subcommand module is loaded up front, but each imports its heavy parts (store, service)
// only inside its action, so `tlsrpt --help` and `tlsrpt parse` start fast.
const modules = await Promise.all(COMMANDS.map((name) => import(`./commands/${name}.js`) as Promise<{ register(p: Command): void }>));
for (const mod of modules) mod.register(program);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) process.exit(e.exitCode);
  const err = e as Error;
  process.stderr.write(`tlsrpt: ${err.message}\n`);
  process.exit(2);
}
