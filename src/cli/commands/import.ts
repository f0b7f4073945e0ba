/**
 * @module cli/commands/import — `tlsrpt import PATH…`: stores reports from files, folders
 * (recursive), maildirs and mbox files through the same pipeline as every other channel; a
 * progress bar on a terminal, then the counts (imported / duplicate / not-a-report / rejected /
 * failed). Exit 0 unless some input failed (unreadable, or the store could not take it).
 */
import type { Command } from 'commander';
import { configFrom, withConfig, withJson, type CommonOptions } from '../options.js';

interface ImportCliOptions extends CommonOptions {
  concurrency?: string;
  threads?: string;
  progress?: boolean;
  verbose?: boolean;
}

export function register(program: Command): void {
  withJson(withConfig(program.command('import')))
    .description('store TLS reports from files, folders (recursive), maildirs and mbox files (.json, .json.gz, .zip, .eml)')
    .argument('<path...>', 'files, folders, maildirs or mbox files')
    .option('--concurrency <n>', 'inputs processed at the same time (their bytes held at once are capped at 64 MiB)', '32')
    .option('--threads <n>', 'worker threads for extraction, parsing and DKIM (default: cores - 1; 0 = none)')
    .option('--no-progress', 'no progress bar, even on a terminal')
    .option('-v, --verbose', 'log every report (JSON lines on stderr)')
    .addHelpText('after', '\nExit status: 0 when every input was read and handled (not-a-report and duplicates included), 1 when some input failed, 2 on a usage or config error.')
    .action(async (paths: string[], opts: ImportCliOptions) => {
      const concurrency = Number(opts.concurrency);
      if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 256) {
        process.stderr.write(`tlsrpt import: --concurrency must be an integer from 1 to 256, got ${opts.concurrency}\n`);
        process.exit(2);
      }
      const { availableParallelism } = await import('node:os');
      const threads = opts.threads === undefined ? Math.min(4, availableParallelism() - 1) : Number(opts.threads);
      if (!Number.isInteger(threads) || threads < 0 || threads > 64) {
        process.stderr.write(`tlsrpt import: --threads must be an integer from 0 to 64, got ${opts.threads}\n`);
        process.exit(2);
      }
      const { config } = configFrom(opts);
      const { log } = await import('../../common/log.js');
      const { openStore } = await import('../../store/index.js');
      const { createConfiguredIngestor, openInboundSettings } = await import('../../receiving/index.js');
      const { importPaths } = await import('../../receiving/sources/import.js');
      const { countFiles } = await import('../../receiving/sources/files.js');
      const { DEFAULT_LIMITS } = await import('../../receiving/extract/index.js');

      // Per-report log lines would drown the progress bar; failures are still logged.
      const quiet = log.child({}, { level: opts.verbose ? log.level : 'warn' });
      const store = await openStore(config.store, { log: quiet });
      let exitCode = 0;
      try {
        const settings = await openInboundSettings(store, config, quiet);
        const ingestor = createConfiguredIngestor({ config, log: quiet, store, settings, analysisThreads: threads });
        const showBar = Boolean(opts.progress !== false && !opts.json && !opts.verbose && process.stderr.isTTY);
        let bar: import('cli-progress').SingleBar | undefined;
        if (showBar) {
          const { SingleBar, Presets } = await import('cli-progress');
          bar = new SingleBar({
            format: 'importing [{bar}] {value}/{total} files | {imported} imported, {duplicate} duplicate, {notReport} not a report, {failed} failed',
            stream: process.stderr, hideCursor: true, etaBuffer: 50,
          }, Presets.shades_classic);
          bar.start(await countFiles(paths), 0, { imported: 0, duplicate: 0, notReport: 0, failed: 0 });
        }
        let filesDone = 0;
        let lastFile = '';
        const summary = await importPaths(paths, {
          ingestor,
          maxInputBytes: DEFAULT_LIMITS.maxInputBytes,
          concurrency,
          onInput: (source, _outcomes, s) => {
            // An mbox counts as one file on the bar; its messages as inputs.
            const file = source.replace(/ message \d+$/, '');
            if (file !== lastFile || !/ message \d+$/.test(source)) filesDone++;
            lastFile = file;
            bar?.update(filesDone, { imported: s.counts.imported, duplicate: s.counts.duplicate, notReport: s.counts['not-a-report'], failed: s.counts.failed + s.counts.rejected });
          },
        });
        bar?.stop();
        await ingestor.close();
        await settings.close();
        const c = summary.counts;
        if (opts.json) {
          process.stdout.write(`${JSON.stringify({ ...c, inputs: summary.inputs, seconds: Number(summary.seconds.toFixed(3)), problems: summary.problems })}\n`);
        } else {
          for (const p of summary.problems.slice(0, 50)) process.stderr.write(`${p.status}: ${p.source}${p.reason ? ` — ${p.reason}` : ''}\n`);
          if (summary.problems.length > 50) process.stderr.write(`… and ${summary.problems.length - 50} more (use --json for all)\n`);
          process.stdout.write(`imported ${c.imported}, duplicate ${c.duplicate}, not-a-report ${c['not-a-report']}, rejected ${c.rejected}, failed ${c.failed} (${summary.inputs} inputs in ${summary.seconds.toFixed(1)} s)\n`);
        }
        if (c.failed > 0) exitCode = 1;
      } finally {
        await store.close();
      }
      process.exitCode = exitCode;
    });
}
