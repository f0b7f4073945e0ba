/**
 * @module bench/abuse — what one stranger costs the public report endpoint (issue 10 item 5):
 * a real compiled `tlsrpt serve` with the default `http` limits, one client address, and the
 * CPU the serve process spends (utime + stime from /proc) as a share of one core, while a
 * prober in a thread of its own asks `/healthz` every 50 ms and times each answer.
 *
 * 1. at the limits — the client sends `http.reportRatePerMinute` (60) POSTs a minute, one a
 *    second, each the costliest body we know within the limits, in turn: a gzip bomb that
 *    inflates past 10 MiB, a valid report with 2,000 policies x 20 failure details (the policy
 *    cap; ~9 MiB inflated, each with a new report-id so it is parsed and stored, not a
 *    duplicate), 1 MiB of empty policy objects, a 1 MiB organization-name, 1 MiB of random
 *    bytes. Those over the byte budget (4 MiB a minute) are answered 429. Target: <= 10 % of one
 *    core over the minute, every /healthz under 50 ms.
 * 2. flood — the same client ignores 429 and keeps `http.maxConnectionsPerClient` (50)
 *    connections busy with the bomb for 20 s. No application limit makes a flood free (the
 *    answer still has to be parsed and written; refusals are answered from Node's request, before
 *    the framework: report-endpoint's gate); reported: requests/s answered, CPU share, /healthz
 *    latency (the client and the server share the machine: on 2 cores its tail is the scheduler's).
 *
 *   npm run bench -- abuse [--seconds 60] [--flood-seconds 20]   (BENCH_PROFILE=<dir>: profile serve)
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { Worker } from 'node:worker_threads';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { cpuSeconds, freePort, numberArg } from '../support.js';

const SECONDS = numberArg('--seconds', 60);
const FLOOD_SECONDS = numberArg('--flood-seconds', 20);
const CPU_TARGET = 0.10;
const HEALTHZ_TARGET_MS = 50;
const BIN = path.resolve('bin/tlsrpt.js');
spawnSync(process.execPath, ['scripts/ensure-built.mjs'], { stdio: 'inherit' });

// ---- the bodies -------------------------------------------------------------------------------

const day = '2026-11-20';
const header = (reportId: string) => ({
  'organization-name': 'Stranger Inc.', 'date-range': { 'start-datetime': `${day}T00:00:00Z`, 'end-datetime': `${day}T23:59:59Z` },
  'contact-info': 'tlsrpt@stranger.example', 'report-id': reportId,
});

let bigReports = 0;
/**
 * 2,000 policies (the cap) x 20 failure details, ~9 MiB of JSON: as much valid work as fits.
 * Each one new (report-id and counts): stored, not recognised as a re-sent duplicate.
 */
function bigReport(): Buffer {
  const n = bigReports++;
  const policies = Array.from({ length: 2000 }, (_, p) => ({
    policy: { 'policy-type': 'sts', 'policy-string': ['version: STSv1', 'mode: enforce', `mx: mx.d${p}.example`, 'max_age: 86400'], 'policy-domain': `d${p}.example`, 'mx-host': [`mx.d${p}.example`] },
    summary: { 'total-successful-session-count': 1000 + p + n, 'total-failure-session-count': 20 },
    'failure-details': Array.from({ length: 20 }, (_, k) => ({
      'result-type': 'certificate-expired', 'sending-mta-ip': `192.0.2.${k + 1}`, 'receiving-mx-hostname': `mx.d${p}.example`,
      'receiving-ip': `198.51.100.${(p + k) % 250 + 1}`, 'failed-session-count': 1, 'additional-information': `https://stranger.example/why/${p}/${k}`,
    })),
  }));
  return Buffer.from(JSON.stringify({ ...header(`abuse-${randomUUID()}`), policies }));
}
const BIG_TEMPLATE = gzipSync(bigReport());

type Kind = 'bomb' | 'big-report' | 'empty-policies' | 'long-string' | 'random-bytes';
const fixed: Record<Exclude<Kind, 'big-report'>, { body: Buffer; encoding?: string }> = {
  bomb: { body: gzipSync(Buffer.from(JSON.stringify({ ...header('bomb'), policies: [], pad: ' '.repeat(11 * 1024 * 1024) }))), encoding: 'gzip' },
  'empty-policies': { body: Buffer.from(`{"report-id":"empty","policies":[${'{},'.repeat(349_000)}{}]}`) },
  'long-string': { body: Buffer.from(JSON.stringify({ ...header('long'), 'organization-name': 'x'.repeat(1_040_000), policies: [] })) },
  'random-bytes': { body: randomBytes(1_040_000) },
};
/** A fresh big report each time (new report-id: parsed and stored, not skipped as a duplicate). */
function body(kind: Kind): { body: Buffer; encoding?: string } {
  if (kind !== 'big-report') return fixed[kind];
  return { body: gzipSync(bigReport(), { level: 1 }), encoding: 'gzip' };
}
// The costliest first: a fresh client's budget goes to the big report, which is parsed and stored.
const KINDS: Kind[] = ['big-report', 'bomb', 'empty-policies', 'long-string', 'random-bytes'];

// ---- HTTP -------------------------------------------------------------------------------------

function post(port: number, agent: Agent, b: { body: Buffer; encoding?: string }): Promise<number> {
  return new Promise((resolve) => {
    const req = request({
      host: '127.0.0.1', port, method: 'POST', path: '/tlsrpt', agent,
      headers: { 'content-type': b.encoding ? 'application/tlsrpt+gzip' : 'application/tlsrpt+json', 'content-length': b.body.byteLength, ...(b.encoding ? { 'content-encoding': 'gzip' } : {}) },
    }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(-1)); // the server may close a connection it refused
    req.end(b.body);
  });
}

/**
 * Asks /healthz every 50 ms until stopped; returns each answer's start (epoch ms) and milliseconds
 * (Infinity: none).
 * In a worker thread of its own (this process stalls while it builds each 9 MiB report: a prober
 * sharing that loop timed the bench, not the server), from another address (a health checker is
 * not the client being limited).
 */
function probe(port: number): { stop(): Promise<Probe[]> } {
  const worker = new Worker(`
    const { parentPort, workerData } = require('node:worker_threads');
    const { Agent, request } = require('node:http');
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const times = [];
    let stopped = false;
    parentPort.on('message', () => { stopped = true; });
    (async () => {
      while (!stopped) {
        const t0 = performance.now();
        const ok = await new Promise((resolve) => {
          const req = request({ host: '127.0.0.1', localAddress: '127.0.0.2', port: workerData.port, path: '/healthz', agent, timeout: 5000 }, (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode === 200));
          });
          req.on('timeout', () => req.destroy());
          req.on('error', () => resolve(false));
          req.end();
        });
        times.push([performance.timeOrigin + t0, ok ? performance.now() - t0 : Infinity]);
        await new Promise((r) => setTimeout(r, 50));
      }
      agent.destroy();
      parentPort.postMessage(times);
    })();
  `, { eval: true, workerData: { port } });
  const times = new Promise<Probe[]>((resolve, reject) => { worker.once('message', resolve); worker.once('error', reject); });
  return { stop: async () => { worker.postMessage('stop'); const t = await times; await worker.terminate(); return t; } };
}

type Probe = [start: number, ms: number];
/** POSTs sent (kind, start and end in epoch ms), to name what a slow /healthz answer overlapped. */
const sent: { kind: string; start: number; end: number }[] = [];
function slowProbes(probes: Probe[], since: number): string {
  const slow = probes.filter(([, d]) => d >= HEALTHZ_TARGET_MS);
  if (!slow.length) return '';
  return `\n  over ${HEALTHZ_TARGET_MS} ms: ${slow.slice(0, 10).map(([t, d]) => {
    const during = [...new Set(sent.filter((p) => p.start < t + d && p.end > t - 1000).map((p) => p.kind))];
    return `${((t - since) / 1000).toFixed(1)} s ${ms(d)} (POSTs within 1 s: ${during.join(', ') || 'none'})`;
  }).join('; ')}`;
}
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length - 1) * p))] ?? NaN;
const ms = (x: number) => (Number.isFinite(x) ? `${x.toFixed(1)} ms` : 'no answer');
const tally = (codes: number[]) => Object.entries(codes.reduce<Record<string, number>>((a, c) => ({ ...a, [c]: (a[c] ?? 0) + 1 }), {}))
  .map(([c, n]) => `${c === '-1' ? 'closed' : c} x${n}`).join(', ');

// ---- run --------------------------------------------------------------------------------------

const results: string[] = [];
const dir = mkdtempSync(path.join(tmpdir(), 'tlsrpt-abuse-'));
const port = await freePort();
const cfg = path.join(dir, 'tlsrpt.json');
// Nothing but what serve needs to listen: every http limit is the default.
writeFileSync(cfg, JSON.stringify({
  store: { sqlite: path.join(dir, 'db.sqlite') }, http: { listen: `127.0.0.1:${port}`, token: 'abuse-bench-token-0123456789' },
  SystemSettings: { domain: 'example.com', hostname: 'mx.example.com' },
}));
// BENCH_PROFILE=<dir>: serve writes a CPU profile there (to find what held its loop).
const profile = process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`, '--cpu-prof-interval', '500'] : [];
const child = spawn(process.execPath, [...profile, BIN, 'serve', '--config', cfg], { stdio: ['ignore', 'ignore', 'inherit'] });
try {
  const end = Date.now() + 60_000;
  while (!(await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false))) {
    if (Date.now() > end) throw new Error('serve did not answer /healthz within 60 s');
    await new Promise((r) => setTimeout(r, 100));
  }
  await new Promise((r) => setTimeout(r, 3000));
  console.log(`bodies: ${KINDS.map((k) => `${k} ${(k === 'big-report' ? BIG_TEMPLATE : fixed[k].body).byteLength} B`).join(', ')} (big-report inflates to ${(bigReport().byteLength / 1048576).toFixed(1)} MiB)`);

  // 0. idle, for reference
  let c0 = cpuSeconds(child.pid!);
  let t0 = performance.now();
  await new Promise((r) => setTimeout(r, 5000));
  const idleShare = (cpuSeconds(child.pid!) - c0) / ((performance.now() - t0) / 1000);

  // 1. at the limits: one POST a second, the costliest bodies in turn
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  let prober = probe(port);
  const codes: number[] = [];
  const byKind = new Map<Kind, number[]>();
  c0 = cpuSeconds(child.pid!);
  t0 = performance.now();
  const limitsSince = Date.now();
  for (let i = 0; i < SECONDS; i++) {
    const kind = KINDS[i % KINDS.length]!;
    const b = body(kind);
    const start = Date.now();
    const code = await post(port, agent, b);
    sent.push({ kind, start, end: Date.now() });
    codes.push(code);
    byKind.set(kind, [...(byKind.get(kind) ?? []), code]);
    const wait = t0 + (i + 1) * 1000 - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  const limitWall = (performance.now() - t0) / 1000;
  const limitShare = (cpuSeconds(child.pid!) - c0) / limitWall;
  const limitProbes = await prober.stop();
  let probes = limitProbes.map(([, d]) => d);
  agent.destroy();
  console.log(`at the limits: ${codes.length} POSTs in ${limitWall.toFixed(0)} s (${tally(codes)}); ${[...byKind].map(([k, cs]) => `${k}: ${tally(cs)}`).join('; ')}`);
  console.log(`  serve CPU ${(100 * limitShare).toFixed(1)} % of one core (idle ${(100 * idleShare).toFixed(1)} %); target <= ${100 * CPU_TARGET} %`);
  console.log(`  /healthz: ${probes.length} probes, median ${ms(pct(probes, 0.5))}, p99 ${ms(pct(probes, 0.99))}, max ${ms(Math.max(...probes))}; target every one < ${HEALTHZ_TARGET_MS} ms${slowProbes(limitProbes, limitsSince)}`);
  results.push(`RESULT abuse_limits_cpu_share ${(100 * limitShare).toFixed(1)} %`, `RESULT abuse_limits_healthz_max ${Math.max(...probes).toFixed(1)} ms`);

  // 2. flood: 50 connections, no pause, 429s ignored
  prober = probe(port);
  const floodAgent = new Agent({ keepAlive: true, maxSockets: 50 });
  const floodCodes: number[] = [];
  c0 = cpuSeconds(child.pid!);
  t0 = performance.now();
  const until = t0 + FLOOD_SECONDS * 1000;
  await Promise.all(Array.from({ length: 50 }, async () => {
    while (performance.now() < until) floodCodes.push(await post(port, floodAgent, fixed.bomb));
  }));
  const floodWall = (performance.now() - t0) / 1000;
  const floodShare = (cpuSeconds(child.pid!) - c0) / floodWall;
  probes = (await prober.stop()).map(([, d]) => d);
  floodAgent.destroy();
  console.log(`flood: ${floodCodes.length} POSTs in ${floodWall.toFixed(0)} s = ${Math.round(floodCodes.length / floodWall)}/s (${tally(floodCodes)})`);
  console.log(`  serve CPU ${(100 * floodShare).toFixed(1)} % of one core; /healthz: ${probes.length} probes, median ${ms(pct(probes, 0.5))}, p99 ${ms(pct(probes, 0.99))}, max ${ms(Math.max(...probes))}; target every one < ${HEALTHZ_TARGET_MS} ms`);
  results.push(`RESULT abuse_flood_cpu_share ${(100 * floodShare).toFixed(1)} %`, `RESULT abuse_flood_requests_per_s ${Math.round(floodCodes.length / floodWall)} 1/s`, `RESULT abuse_flood_healthz_max ${Math.max(...probes).toFixed(1)} ms`);
  if (child.exitCode !== null) throw new Error(`serve exited (${child.exitCode}) under abuse`);
} finally {
  child.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}
for (const l of results) console.log(l);
