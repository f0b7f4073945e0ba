/**
 * @module bench/ingest-http — events per second through `POST /api/v1/events` over real HTTP,
 * in batches of 1,000, into a real `tlsrpt serve` child process on SQLite (its full work:
 * parse, validate, aggregate, commit before answering). 1,000,000 events over 10,000 policy
 * domains by default; reports the server's peak RSS (VmHWM) too.
 *
 *   npm run bench -- ingest-http [events=1000000] [concurrency=8]
 *
 * BENCH_STORE=postgres runs the node(s) on a throwaway PostgreSQL 15 cluster
 * (test/support/postgres.ts) and reports the database's CPU (postmaster and backends) beside the
 * nodes', its size per million events and its dead rows; BENCH_NODES=N starts N `serve` nodes
 * on that one database and spreads the clients' batches over them (PostgreSQL only).
 *
 * Environment: BENCH_CPU_PROF=DIR writes a V8 CPU profile of the server there;
 * BENCH_FLUSH_EVENTS=N sets collector.flushEvents (default 200,000). Besides wall-clock events/s
 * it reports events per server CPU-second, which stays comparable on a busy machine.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { openStore, type StoreConfig } from '../../src/store/index.js';
import { startPostgres, type PostgresCluster } from '../../test/support/postgres.js';
import { freePort, seededRandom } from '../support.js';

const TOTAL = Number(process.argv[2] ?? 1_000_000);
const CONCURRENCY = Number(process.argv[3] ?? 8);
const BATCH = 1000;
const DOMAINS = 10_000;
const TOKEN = 'bench-token-0123456789';
const ON_PG = process.env.BENCH_STORE === 'postgres';
const NODES = Number(process.env.BENCH_NODES ?? 1);
if (NODES > 1 && !ON_PG) throw new Error('BENCH_NODES > 1 needs BENCH_STORE=postgres (nodes share one database)');

// Seeded PRNG: the same corpus every run.
const rnd = seededRandom(0x1d5);
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

// Idle sockets are dropped before the server's 5 s keep-alive timeout: a socket the server closes
// just as the client reuses it resets the request (seen with several nodes, where a port can idle).
const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY, timeout: 4000 });
function post(port: number, body: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/api/v1/events', method: 'POST', agent, headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', 'content-length': body.length } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('error', (e) => reject(Object.assign(e, { message: `${e.message} (response of node on port ${port})` })));
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(Buffer.concat(chunks).toString()).accepted) : reject(new Error(`${res.statusCode} ${Buffer.concat(chunks)}`))));
    });
    req.on('error', (e) => reject(Object.assign(e, { message: `${e.message} (node on port ${port})` })));
    req.end(body);
  });
}

const dir = mkdtempSync(path.join(tmpdir(), 'tlsrpt-bench-http-'));
let cluster: PostgresCluster | undefined;
let store: StoreConfig = { sqlite: path.join(dir, 'bench.db') };
if (ON_PG) {
  cluster = await startPostgres();
  const admin = await openStore({ postgres: cluster.url }, { skipMigrations: true });
  await sql.raw('create database bench_http').execute(admin.db);
  await admin.close();
  store = { postgres: cluster.url.replace(/\/postgres$/, '/bench_http') };
}
const ports: number[] = [];
const children: ReturnType<typeof spawn>[] = [];
let stopping = false;
/** utime + stime of a process, in clock ticks (1/100 s); 0 when it is gone. */
const ticksOf = (pid: number) => {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return Number(f[11]) + Number(f[12]);
  } catch {
    return 0;
  }
};
/** The database's processes: the postmaster and its children (backends, walwriter, autovacuum…). */
const dbPids = () => {
  if (!cluster) return [];
  const master = Number(readFileSync(path.join(cluster.dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
  const pids = [master];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      if (Number(readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1].split(' ')[1]) === master) pids.push(Number(p));
    } catch {
      // gone
    }
  }
  return pids;
};
try {
  for (let n = 0; n < NODES; n++) {
    const port = await freePort();
    ports.push(port);
    const cfg = path.join(dir, `cfg${n}.json`);
    writeFileSync(cfg, JSON.stringify({ store, http: { listen: `127.0.0.1:${port}`, token: TOKEN }, collector: { flushMs: 1000, ...(process.env.BENCH_FLUSH_EVENTS ? { flushEvents: Number(process.env.BENCH_FLUSH_EVENTS) } : {}) }, SystemSettings: { domain: 'example.com', hostname: `node${n}.example.com` } }));
    const child = spawn(process.execPath, [...(process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : []), path.resolve('bin/tlsrpt.js'), 'serve', '--config', cfg], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, TLSRPT_LOG_LEVEL: 'warn' } });
    children.push(child);
    child.on('exit', (code, signal) => {
      if (!stopping) process.stderr.write(`\nnode ${n} (port ${port}) exited during the run: code ${code}, signal ${signal}\n`);
    });
    for (let i = 0; ; i++) {
      try {
        await new Promise<void>((resolve, reject) => request({ host: '127.0.0.1', port, path: '/healthz', agent: false }, (r) => (r.resume(), r.statusCode === 200 ? resolve() : reject())).on('error', reject).end());
        break;
      } catch {
        if (i > 300) throw new Error('serve did not come up');
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }
  const nodeTicks = () => children.reduce((s, c) => s + ticksOf(c.pid!), 0);
  const dbTicks = () => dbPids().reduce((s, p) => s + ticksOf(p), 0);
  const cpu0 = nodeTicks();
  const db0 = dbTicks();
  const rssStart = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${children[0].pid}/status`, 'utf8'))![1]) / 1024;
  const requests = Math.ceil(TOTAL / BATCH);
  let next = 0;
  let accepted = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < requests) {
      const i = next++;
      const n = await post(ports[i % ports.length], bodies[i % bodies.length]);
      accepted += n;
      if (i % 100 === 99) process.stderr.write(`\r${((i + 1) * BATCH).toLocaleString()} events`);
    }
  }));
  process.stderr.write('\n');
  const seconds = (performance.now() - t0) / 1000;
  const peakMb = Math.max(...children.map((c) => Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${c.pid}/status`, 'utf8'))![1]) / 1024));
  const cpuSeconds = (nodeTicks() - cpu0) / 100;
  const dbSeconds = (dbTicks() - db0) / 100;
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
  // Our keep-alive sockets go first: a node closing them on SIGTERM resets them under us.
  agent.destroy();
  stopping = true;
  for (const c of children) c.kill('SIGTERM');
  await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r)))));

  // Check: everything acknowledged is counted.
  const s = await openStore(store);
  const sum = await s.db.selectFrom('outbound_policy').select((eb) => [eb.fn.sum<number>('successful').as('ok'), eb.fn.sum<number>('failed').as('bad')]).executeTakeFirstOrThrow();
  const windows = await s.db.selectFrom('outbound_window').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  let dbLine = '';
  let dbMbPerMillion: number | undefined;
  if (ON_PG) {
    const size = await sql<{ bytes: number }>`select pg_database_size(current_database()) as bytes`.execute(s.db);
    const dead = await sql<{ live: number; dead: number }>`select cast(sum(n_live_tup) as bigint) as live, cast(sum(n_dead_tup) as bigint) as dead from pg_stat_user_tables`.execute(s.db);
    dbMbPerMillion = (Number(size.rows[0].bytes) / 1048576) / (accepted / 1e6);
    dbLine = `; database CPU ${dbSeconds.toFixed(2)} s (${((100 * dbSeconds) / (dbSeconds + cpuSeconds)).toFixed(0)} % of nodes + database), ` +
      `size ${(Number(size.rows[0].bytes) / 1048576).toFixed(1)} MB, live/dead rows ${dead.rows[0].live}/${dead.rows[0].dead}`;
  }
  await s.close();
  const stored = Number(sum.ok) + Number(sum.bad);
  console.log(`${accepted.toLocaleString()} events accepted by ${NODES} node(s) on ${ON_PG ? 'PostgreSQL' : 'SQLite'} in ${seconds.toFixed(2)} s over ${CONCURRENCY} keep-alive connections, batches of ${BATCH}; ` +
    `stored ${stored.toLocaleString()} (${Number(sum.bad).toLocaleString()} failed) in ${Number(windows.n).toLocaleString()} windows; server RSS at start ${rssStart.toFixed(0)} MB; ` +
    `node CPU ${cpuSeconds.toFixed(2)} s (${(accepted / cpuSeconds).toFixed(0)} events per CPU-second)${dbLine}; load average ${load} on ${availableParallelism()} cores`);
  if (stored !== accepted) throw new Error(`stored ${stored} != accepted ${accepted}`);
  const tag = `${ON_PG ? '_postgres' : ''}${NODES > 1 ? `_${NODES}_nodes` : ''}`;
  console.log(`RESULT http${tag}_events_per_s ${Math.round(accepted / seconds)} 1/s`);
  console.log(`RESULT http${tag}_events_per_cpu_s ${Math.round(accepted / cpuSeconds)} 1/s`);
  if (ON_PG) {
    console.log(`RESULT http${tag}_db_cpu_share ${(dbSeconds / (dbSeconds + cpuSeconds)).toFixed(2)} x`);
    console.log(`RESULT http${tag}_db_mb_per_million_events ${dbMbPerMillion!.toFixed(1)} MB`);
  }
  console.log(`RESULT peak_rss_mb ${Math.round(peakMb)} MB`);
} finally {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
}
