/** @module cli/commands/serve — `tlsrpt serve`: runs the service until SIGINT / SIGTERM. */
import type { Command } from 'commander';
import { configFrom, withConfig, type CommonOptions } from '../options.js';

export function register(program: Command): void {
  withConfig(program.command('serve'))
    .description('run the service: HTTP API and report endpoint, collector socket, SMTP listener, IMAP poller, scheduler')
    .action(async (opts: CommonOptions) => {
      const { log } = await import('../../common/log.js');
      const { startService } = await import('../../service.js');
      const { config, file, source } = configFrom(opts);
      // The handlers go in before anything starts: a signal that arrives while the service is
      // still starting (its "listening" line is already out) must stop it cleanly, not kill it.
      const signalled = new Promise<void>((resolve) => {
        const onSignal = (sig: string) => {
          log.info({ signal: sig }, 'shutting down');
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
          resolve();
        };
        process.on('SIGINT', onSignal);
        process.on('SIGTERM', onSignal);
      });
      log.info({ config: file ?? '(built-in defaults)', foundBy: source }, 'tlsrpt-hub starting');
      const svc = await startService(config, log);
      await signalled;
      await svc.stop();
      log.info('stopped');
    });
}
