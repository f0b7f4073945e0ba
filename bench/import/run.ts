/**
 * @module bench/import/run — the measured side of bench/import, in its own process so the
 * generator's memory does not count: imports a maildir exactly as `tlsrpt import` does
 * (configured ingestor with DKIM over the configured DNS, SQLite store, 32 in flight) and
 * prints one JSON line with counts, reports/s and RSS at 25/50/100 % of the inputs.
 *
 *   node --import tsx bench/import/run.ts CONFIG MAILDIR COUNT
 */
import { loadConfig } from '../../src/settings/config.js';
import { openStore } from '../../src/store/index.js';
import { log } from '../../src/common/log.js';
import { createConfiguredIngestor, DEFAULT_INBOUND } from '../../src/receiving/index.js';
import { importPaths } from '../../src/receiving/sources/import.js';

const [cfgFile, maildir, countArg, threadsArg, concurrencyArg] = process.argv.slice(2);
const count = Number(countArg);
const config = loadConfig(cfgFile);
const quiet = log.child({}, { level: 'warn' });
const store = await openStore(config.store, { log: quiet });
const ingestor = createConfiguredIngestor({ config, log: quiet, store, settings: { inbound: () => DEFAULT_INBOUND }, analysisThreads: Number(threadsArg ?? 2), groupCommit: process.env.BENCH_GROUP_COMMIT !== '0' });

const mb = (n: number) => Math.round(n / 1048576);
let peak = process.memoryUsage().rss;
const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage.rss()); }, 100);
const marks = new Set([Math.round(count / 4), Math.round(count / 2), count]);
const checkpoints: { inputs: number; rssMb: number }[] = [];

const cpu0 = process.cpuUsage();
const summary = await importPaths([maildir], {
  ingestor,
  maxInputBytes: 50 * 1024 * 1024,
  concurrency: Number(concurrencyArg ?? 32),
  onInput: (_s, _o, s) => {
    if (!marks.has(s.inputs)) return;
    const rss = process.memoryUsage.rss();
    peak = Math.max(peak, rss);
    checkpoints.push({ inputs: s.inputs, rssMb: mb(rss) });
  },
});
const cpu = process.cpuUsage(cpu0);
clearInterval(sampler);
await ingestor.close();
peak = Math.max(peak, process.memoryUsage().rss);
const dkim = await store.db.selectFrom('inbound_report').select((eb) => eb.fn.countAll().as('n')).where('dkim_result', '=', 'pass').executeTakeFirstOrThrow();
// Alert evaluation of every imported report (default rules, no notification channel), as the
// service's alerts component does after an import: its time against the import's (issue 14: ≤ 10 %).
let alerts: { seconds: number; raised: number } | null = null;
if (process.env.BENCH_ALERTS !== '0') {
  const { createAlertEngine } = await import('../../src/analysis/alerts/engine.js');
  const { AlertsConfig } = await import('../../src/settings/alerts.js');
  const engine = createAlertEngine({ store, config: AlertsConfig.parse({}), notifier: {} });
  const t0 = performance.now();
  const raised = await engine.evaluateStored();
  alerts = { seconds: (performance.now() - t0) / 1000, raised: raised.length };
}
await store.close();
const reports = summary.counts.imported + summary.counts.duplicate;
console.log(JSON.stringify({
  counts: summary.counts, inputs: summary.inputs, seconds: summary.seconds,
  reportsPerSecond: reports / summary.seconds, peakRssMb: mb(peak),
  checkpoints, rssGrowthMb: checkpoints.length === 3 ? checkpoints[2].rssMb - checkpoints[0].rssMb : null,
  cpuMsPerReport: Number(((cpu.user + cpu.system) / 1000 / Math.max(1, summary.inputs)).toFixed(3)),
  dkimPass: Number(dkim.n), problems: summary.problems.slice(0, 5), alerts,
}));
