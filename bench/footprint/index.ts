/**
 * @module bench/footprint — the collector's footprint (issue 12), measured on the compiled
 * service as an operator runs it: `tlsrpt --help` start-up against a bare `node -e 0`, and the
 * RSS of an idle `tlsrpt serve` with the datagram collector, 15 s after it answers /healthz (settled).
 * Then, on the same process, load: 1,000,000 libtlsrpt datagrams over 10,000 policy domains
 * (bench/ingest-datagram's corpus, sent by a separate process from 8 sockets, waiting on
 * EAGAIN like Postfix's smtp processes), counted through GET /metrics; peak RSS is the kernel's
 * VmHWM of the serve process over its whole life. Last, a 100,000-domain report build
 * (bench/report's seed) by the compiled scheduler in a plain node child (build-child.mjs).
 * Targets: --help <= 4x node and <= 0.15 s; idle <= 80 MiB; load <= 150 MiB peak at
 * >= 100k datagrams/s; build <= 256 MiB peak.
 *
 *   npm run bench -- footprint [--datagrams N] [--domains N]
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { openStore } from '../../src/store/index.js';
import { seed } from '../report/seed.js';
import { freePort, numberArg, statusKib } from '../support.js';

const BIN = path.resolve('bin/tlsrpt.js');
const DATAGRAMS = numberArg('--datagrams', 1_000_000);
const DOMAINS = numberArg('--domains', 100_000);
const QLEN_FILE = '/proc/sys/net/unix/max_dgram_qlen';
/** Sets net.unix.max_dgram_qlen when this process may (root); `value` is what sockets now get. */
function setQlen(want: number): { value: number; restore(): void } {
  const original = Number(readFileSync(QLEN_FILE, 'utf8').trim());
  try {
    writeFileSync(QLEN_FILE, String(want));
    return { value: want, restore: () => writeFileSync(QLEN_FILE, String(original)) };
  } catch {
    console.log(`(could not set max_dgram_qlen to ${want}; the load runs at the machine's ${original})`);
    return { value: original, restore: () => {} };
  }
}
/** A counter's value in Prometheus text (0 when absent). */
const metric = (text: string, name: string) => Number(new RegExp(`^${name.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
spawnSync(process.execPath, ['scripts/ensure-built.mjs'], { stdio: 'inherit' });

function bestOf(n: number, args: string[]): number {
  let best = Infinity;
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(process.execPath, args, { stdio: 'ignore' });
    if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited ${r.status}`);
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e9);
  }
  return best;
}

const results: string[] = [];
const node = bestOf(7, ['-e', '0']);
const help = bestOf(7, [BIN, '--help']);

const dir = mkdtempSync(path.join(tmpdir(), 'tlsrpt-footprint-'));
try {
  const port = await freePort();
  const metricsPort = await freePort();
  const cfg = path.join(dir, 'tlsrpt.json');
  const sock = path.join(dir, 'c.sock');
  writeFileSync(cfg, JSON.stringify({
    store: { sqlite: path.join(dir, 'db.sqlite') }, http: { listen: `127.0.0.1:${port}`, token: 'footprint-token-0123456789' },
    metrics: { listen: `127.0.0.1:${metricsPort}` },
    collector: { socket: sock }, SystemSettings: { domain: 'example.com', hostname: 'mx.example.com' },
  }));
  // As deployed (contrib/systemd/60-tlsrpt.conf): the socket is created under max_dgram_qlen = 512.
  const qlen = setQlen(512);
  const child = spawn(process.execPath, [BIN, 'serve', '--config', cfg], { stdio: 'ignore' });
  try {
    const end = Date.now() + 60_000;
    for (;;) {
      const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false);
      if (ok) break;
      if (Date.now() > end) throw new Error('serve did not answer /healthz within 60 s');
      await new Promise((r) => setTimeout(r, 100));
    }
    qlen.restore(); // the socket keeps the value it was created with
    // Idle means settled: V8's memory reducer makes its first pass ~8 s after start (-5 MiB).
    await new Promise((r) => setTimeout(r, 15_000));
    const rssKib = statusKib(child.pid!, 'VmRSS');
    if (!Number.isFinite(rssKib) || rssKib <= 0) throw new Error('no VmRSS for the serve process');
    console.log(`tlsrpt --help ${(help * 1000).toFixed(0)} ms = ${(help / node).toFixed(1)}x node -e 0 (${(node * 1000).toFixed(0)} ms); targets <= 150 ms, <= 4x`);
    console.log(`idle serve with the collector: ${(rssKib / 1024).toFixed(1)} MiB RSS 15 s after /healthz; target <= 80 MiB`);
    results.push(`RESULT help_startup ${(help * 1000).toFixed(0)} ms`, `RESULT help_startup_ratio ${(help / node).toFixed(2)} x`, `RESULT idle_serve_rss ${(rssKib / 1024).toFixed(1)} MiB`);

    // Load: the same process takes DATAGRAMS datagrams over 10,000 policy domains.
    const scrape = () => fetch(`http://127.0.0.1:${metricsPort}/metrics`).then((r) => r.text());
    const sender = spawn(process.execPath, ['--import', 'tsx', path.resolve('bench/ingest-datagram/sender.ts'), sock, String(DATAGRAMS), '0', '1', '8'], { stdio: ['pipe', 'pipe', 'inherit'] });
    const lines = createInterface({ input: sender.stdout! })[Symbol.asyncIterator]();
    await lines.next(); // the corpus is built: what follows is measured
    const t0 = performance.now();
    sender.stdin!.write('go\n');
    const sent = JSON.parse(String((await lines.next()).value)) as { sent: number; pool: number };
    let accepted = 0;
    const deadline = Date.now() + 120_000;
    while ((accepted = metric(await scrape(), 'tlsrpt_events_accepted_total{source="datagram"}')) < sent.sent && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const loadSeconds = (performance.now() - t0) / 1000;
    let flushed = 0;
    while ((flushed = metric(await scrape(), 'tlsrpt_collector_flushed_events_total')) < accepted && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const peakKib = statusKib(child.pid!, 'VmHWM');
    const afterKib = statusKib(child.pid!, 'VmRSS');
    if (accepted !== DATAGRAMS || flushed !== DATAGRAMS) console.log(`!! lost datagrams: sent ${sent.sent}, accepted ${accepted}, written to the store ${flushed} of ${DATAGRAMS}`);
    const rate = accepted === DATAGRAMS ? Math.round(DATAGRAMS / loadSeconds) : 0;
    console.log(`load (socket max_dgram_qlen ${qlen.value}): ${DATAGRAMS} datagrams over 10,000 policy domains (pool of ${sent.pool}) accepted in ${loadSeconds.toFixed(2)} s = ${rate}/s, all ${flushed} written; ` +
      `serve peak ${(peakKib / 1024).toFixed(1)} MiB RSS (VmHWM), ${(afterKib / 1024).toFixed(1)} MiB after; targets <= 150 MiB, >= 100000/s`);
    results.push(`RESULT load_peak_rss ${(peakKib / 1024).toFixed(1)} MiB`, `RESULT load_datagrams_per_s ${rate} 1/s`);
  } finally {
    qlen.restore();
    child.kill('SIGTERM');
  }

  // Build: DOMAINS reports by the compiled scheduler, in a plain node child.
  const bcfg = path.join(dir, 'build.json');
  writeFileSync(bcfg, JSON.stringify({ store: { sqlite: path.join(dir, 'build.sqlite') }, SystemSettings: { domain: 'example.com', hostname: 'mx.example.com' } }));
  const store = await openStore({ sqlite: path.join(dir, 'build.sqlite') });
  await seed(store, DOMAINS);
  await store.close();
  const b = spawnSync(process.execPath, [path.resolve('bench/footprint/build-child.mjs'), bcfg], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (b.status !== 0) throw new Error(`build child exited ${b.status}`);
  const built = JSON.parse(b.stdout) as { closed: number; built: number; seconds: number; hwmBeforeMiB: number; hwmMiB: number };
  if (built.built !== DOMAINS) console.log(`!! built ${built.built} of ${DOMAINS} reports`);
  console.log(`build: ${built.built} reports (${DOMAINS} domains, 2 policies and 6 failure details each) in ${built.seconds.toFixed(1)} s; ` +
    `peak ${built.hwmMiB.toFixed(1)} MiB RSS (${built.hwmBeforeMiB.toFixed(1)} MiB before); target <= 256 MiB`);
  results.push(`RESULT build_peak_rss ${built.hwmMiB.toFixed(1)} MiB`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
for (const l of results) console.log(l);
