/**
 * @module bench/ingest-http — events per second through `POST /api/v1/events` over real HTTP,
 * in batches of 1,000, into a real `tlsrpt serve` child process on SQLite (its full work:
 * parse, validate, aggregate, commit before answering). 1,000,000 events over 10,000 policy
 * domains by default; reports the server's peak RSS (VmHWM) too.
 *
 *   npm run bench -- ingest-http [events=1000000] [concurrency=8]
 *
 * Environment: BENCH_CPU_PROF=DIR writes a V8 CPU profile of the server there;
 * BENCH_FLUSH_EVENTS=N sets collector.flushEvents (default 200,000). Besides wall-clock events/s
 * it reports events per server CPU-second, which stays comparable on a busy machine.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { createServer } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { openStore } from '../../src/store/index.js';

const TOTAL = Number(process.argv[2] ?? 1_000_000);
const CONCURRENCY = Number(process.argv[3] ?? 8);
const BATCH = 1000;
const DOMAINS = 10_000;
const TOKEN = 'bench-token-0123456789';

// Seeded PRNG: the same corpus every run.
let seed = 0x1d5;
const rnd = () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
const RESULTS = ['certificate-expired', 'certificate-not-trusted', 'certificate-host-mismatch', 'starttls-not-supported', 'validation-failure', 'sts-policy-fetch-error'];

/** A realistic event: STS 50 %, TLSA 20 %, no policy 30 %; 10 % failures with a detail. */
function event(d: number): Record<string, unknown> {
  const domain = `d${d}.example`;
  const kind = d % 10;
  const failed = rnd() < 0.1;
  const policy: Record<string, unknown> =
    kind < 5
      ? { 'policy-type': 'sts', 'policy-string': ['version: STSv1', 'mode: enforce', `mx: mx1.${domain}`, `mx: mx2.${domain}`, 'max_age: 604800'], 'mx-host': [`mx1.${domain}`, `mx2.${domain}`] }
      : kind < 7
        ? { 'policy-type': 'tlsa', 'policy-domain': `mx1.${domain}`, 'policy-string': [`3 1 1 ${(d * 7919).toString(16).padStart(64, '0')}`] }
        : { 'policy-type': 'no-policy-found' };
  policy.result = failed ? 'failure' : 'success';
  if (failed) {
    policy['failure-details'] = [{
      'result-type': RESULTS[int(0, RESULTS.length - 1)],
      'sending-mta-ip': `192.0.2.${int(1, 4)}`,
      'receiving-mx-hostname': `mx1.${domain}`,
      'receiving-ip': `198.51.${d % 250}.${int(1, 2)}`,
    }];
  }
  return { 'recipient-domain': domain, 'tlsrpt-record': `v=TLSRPTv1; rua=mailto:tlsrpt@${domain}`, policies: [policy] };
}

// 50 distinct request bodies, cycled: 10 consecutive bodies cover all 10,000 domains.
const bodies = Array.from({ length: 50 }, (_, b) => Buffer.from(JSON.stringify({ events: Array.from({ length: BATCH }, (_, i) => event(((b % 10) * BATCH + i) % DOMAINS)) })));

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
function post(port: number, body: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/api/v1/events', method: 'POST', agent, headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', 'content-length': body.length } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(Buffer.concat(chunks).toString()).accepted) : reject(new Error(`${res.statusCode} ${Buffer.concat(chunks)}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const dir = mkdtempSync(path.join(tmpdir(), 'tlsrpt-bench-http-'));
const port = await freePort();
const cfg = path.join(dir, 'cfg.json');
const store = { sqlite: path.join(dir, 'bench.db') };
writeFileSync(cfg, JSON.stringify({ store, http: { listen: `127.0.0.1:${port}`, token: TOKEN }, collector: { flushMs: 1000, ...(process.env.BENCH_FLUSH_EVENTS ? { flushEvents: Number(process.env.BENCH_FLUSH_EVENTS) } : {}) }, SystemSettings: { domain: 'example.com', hostname: 'mx.example.com' } }));
const child = spawn(process.execPath, [...(process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : []), path.resolve('bin/tlsrpt.js'), 'serve', '--config', cfg], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, TLSRPT_LOG_LEVEL: 'warn' } });
try {
  for (let i = 0; ; i++) {
    try {
      await new Promise<void>((resolve, reject) => request({ host: '127.0.0.1', port, path: '/healthz' }, (r) => (r.resume(), r.statusCode === 200 ? resolve() : reject())).on('error', reject).end());
      break;
    } catch {
      if (i > 300) throw new Error('serve did not come up');
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const cpuTicks = () => {
    const f = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return Number(f[11]) + Number(f[12]); // utime + stime, in clock ticks (1/100 s)
  };
  const cpu0 = cpuTicks();
  const rssStart = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))![1]) / 1024;
  const requests = Math.ceil(TOTAL / BATCH);
  let next = 0;
  let accepted = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < requests) {
      const i = next++;
      const n = await post(port, bodies[i % bodies.length]);
      accepted += n;
      if (i % 100 === 99) process.stderr.write(`\r${((i + 1) * BATCH).toLocaleString()} events`);
    }
  }));
  process.stderr.write('\n');
  // Every event sent must be acknowledged, and the clock stops only once the last one is counted
  // in the store (the collector's final flush), not when the last 200 came back.
  const sent = requests * BATCH;
  if (accepted !== sent) throw new Error(`accepted ${accepted} of ${sent} events sent`);
  const counted = await openStore(store);
  for (let i = 0; ; i++) {
    const c = await counted.db.selectFrom('outbound_policy').select((eb) => [eb.fn.sum<number>('successful').as('ok'), eb.fn.sum<number>('failed').as('bad')]).executeTakeFirstOrThrow();
    if (Number(c.ok) + Number(c.bad) >= sent) break;
    if (i > 6000) throw new Error(`only ${Number(c.ok) + Number(c.bad)} of ${sent} events counted after 60 s`);
    await new Promise((r) => setTimeout(r, 10));
  }
  const seconds = (performance.now() - t0) / 1000;
  await counted.close();
  const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
  const peakMb = Number(/VmHWM:\s+(\d+)/.exec(status)![1]) / 1024;
  const cpuSeconds = (cpuTicks() - cpu0) / 100;
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));

  // Check: everything acknowledged is counted.
  const s = await openStore(store);
  const sum = await s.db.selectFrom('outbound_policy').select((eb) => [eb.fn.sum<number>('successful').as('ok'), eb.fn.sum<number>('failed').as('bad')]).executeTakeFirstOrThrow();
  const windows = await s.db.selectFrom('outbound_window').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  await s.close();
  const stored = Number(sum.ok) + Number(sum.bad);
  console.log(`${accepted.toLocaleString()} events accepted in ${seconds.toFixed(2)} s over ${CONCURRENCY} keep-alive connections, batches of ${BATCH}; ` +
    `stored ${stored.toLocaleString()} (${Number(sum.bad).toLocaleString()} failed) in ${Number(windows.n).toLocaleString()} windows; server RSS at start ${rssStart.toFixed(0)} MB; ` +
    `server CPU ${cpuSeconds.toFixed(2)} s (${(accepted / cpuSeconds).toFixed(0)} events per CPU-second); load average ${load} on ${availableParallelism()} cores`);
  if (stored !== accepted || stored !== sent) throw new Error(`stored ${stored}, accepted ${accepted}, sent ${sent}`);
  console.log(`RESULT http_events_per_s ${Math.round(accepted / seconds)} 1/s`);
  console.log(`RESULT http_events_per_cpu_s ${Math.round(accepted / cpuSeconds)} 1/s`);
  console.log(`RESULT peak_rss_mb ${Math.round(peakMb)} MB`);
} finally {
  if (child.exitCode === null) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
}
