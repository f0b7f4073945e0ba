/**
 * @module bench/soak — three `tlsrpt serve` nodes on one PostgreSQL for a long run (issue 15):
 * 5,000 events/s in all, half as libtlsrpt datagrams (a sender process per node, pacing its own
 * socket, waiting for room rather than dropping) and half over HTTP (`POST /api/v1/events`,
 * batches of 500 spread over the nodes), for 30 minutes by default. Every 10 s it samples each
 * node's RSS and the database's live and dead rows, size and autovacuum runs; it prints the
 * figures at 25 %, 50 %, 75 % and 100 % of the run. At the end every acknowledged event must be
 * in the counters (senders stopped, nodes stopped cleanly).
 * Targets: each node's RSS at 100 % within 10 % (or 8 MiB) of its RSS at 25 %; dead rows at the
 * end no more than at 25 % plus what one autovacuum round leaves (the journal churns: every
 * HTTP batch is a row inserted and deleted).
 *
 *   npm run bench -- soak [--minutes 30] [--rate 5000]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { sql } from 'kysely';
import { openStore, type Store } from '../../src/store/index.js';
import { startPostgres } from '../../test/support/postgres.js';
import { freePort, numberArg, seededRandom, statusKib } from '../support.js';

const MINUTES = numberArg('--minutes', 30);
const RATE = numberArg('--rate', 5000);
const NODES = 3;
const BATCH = 500;
const DOMAINS = 10_000;
const TOKEN = 'soak-bench-token-0123456789';
const SAMPLE_MS = 10_000;

const rssMiB = (pid: number) => statusKib(pid, 'VmRSS') / 1024;

const rnd = seededRandom(0x50a4);
/** One event as `POST /api/v1/events` takes it: STS, 10 % failures with a detail. */
function event(d: number): Record<string, unknown> {
  const domain = `h${d}.example`;
  const failed = rnd() < 0.1;
  return {
    'recipient-domain': domain, 'tlsrpt-record': `v=TLSRPTv1; rua=mailto:tlsrpt@${domain}`,
    policies: [{
      'policy-type': 'sts', 'policy-string': ['version: STSv1', 'mode: enforce', `mx: mx.${domain}`, 'max_age: 604800'], 'mx-host': [`mx.${domain}`],
      result: failed ? 'failure' : 'success',
      ...(failed ? { 'failure-details': [{ 'result-type': 'certificate-expired', 'sending-mta-ip': '192.0.2.1', 'receiving-mx-hostname': `mx.${domain}`, 'receiving-ip': '198.51.100.1' }] } : {}),
    }],
  };
}
const bodies = Array.from({ length: 40 }, (_, b) => Buffer.from(JSON.stringify({ events: Array.from({ length: BATCH }, (_, i) => event((b * BATCH + i) % DOMAINS)) })));

const agent = new Agent({ keepAlive: true, maxSockets: 8, timeout: 4000 });
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

interface Sample { at: number; rss: number[]; live: number; dead: number; sizeMiB: number; autovacuums: number; deadByTable: Record<string, number> }

async function sampleDb(s: Store): Promise<Omit<Sample, 'at' | 'rss'>> {
  const rows = await sql<{ relname: string; live: string; dead: string; av: string }>`
    select relname, n_live_tup as live, n_dead_tup as dead, autovacuum_count as av from pg_stat_user_tables`.execute(s.db);
  const size = await sql<{ bytes: string }>`select pg_database_size(current_database()) as bytes`.execute(s.db);
  const deadByTable: Record<string, number> = {};
  for (const r of rows.rows) if (Number(r.dead) > 0) deadByTable[r.relname] = Number(r.dead);
  return {
    live: rows.rows.reduce((a, r) => a + Number(r.live), 0), dead: rows.rows.reduce((a, r) => a + Number(r.dead), 0),
    autovacuums: rows.rows.reduce((a, r) => a + Number(r.av), 0), sizeMiB: Number(size.rows[0]!.bytes) / 1048576, deadByTable,
  };
}

const dir = mkdtempSync(path.join(tmpdir(), 'tlsrpt-soak-'));
const cluster = await startPostgres();
const children: ChildProcess[] = [];
const senders: ChildProcess[] = [];
let stopping = false;
try {
  const admin = await openStore({ postgres: cluster.url }, { skipMigrations: true });
  await sql.raw('create database soak').execute(admin.db);
  await admin.close();
  const store = { postgres: cluster.url.replace(/\/postgres$/, '/soak') };
  const ports: number[] = [];
  const sockets: string[] = [];
  for (let n = 0; n < NODES; n++) {
    const port = await freePort();
    const sock = path.join(dir, `node${n}.sock`);
    ports.push(port);
    sockets.push(sock);
    const cfg = path.join(dir, `node${n}.json`);
    writeFileSync(cfg, JSON.stringify({ store, http: { listen: `127.0.0.1:${port}`, token: TOKEN }, collector: { socket: sock }, SystemSettings: { domain: 'example.com', hostname: `node${n}.example.com` } }));
    const child = spawn(process.execPath, [path.resolve('bin/tlsrpt.js'), 'serve', '--config', cfg], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, TLSRPT_LOG_LEVEL: 'warn' } });
    child.on('exit', (code, signal) => { if (!stopping) process.stderr.write(`\nnode ${n} exited during the run: code ${code}, signal ${signal}\n`); });
    children.push(child);
    for (let i = 0; !(await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false)); i++) {
      if (i > 300) throw new Error(`node ${n} did not come up`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const db = await openStore(store, { skipMigrations: true });

  // Datagrams: half the rate, a paced sender per node (bench/ingest-datagram/sender.ts).
  const seconds = MINUTES * 60;
  const perNodeDatagrams = Math.round(RATE / 2 / NODES);
  const sent: Promise<number>[] = [];
  for (const sock of sockets) {
    const s = spawn(process.execPath, ['--import', 'tsx', path.resolve('bench/ingest-datagram/sender.ts'), sock, String(perNodeDatagrams * seconds), String(perNodeDatagrams), '1', '2'], { stdio: ['pipe', 'pipe', 'inherit'] });
    senders.push(s);
    const lines = createInterface({ input: s.stdout! })[Symbol.asyncIterator]();
    await lines.next();
    sent.push(lines.next().then((l) => (JSON.parse(String(l.value)) as { sent: number }).sent));
  }
  for (const s of senders) s.stdin!.write('go\n');

  // HTTP: the other half, a batch of 500 every 500 * 2 / RATE seconds, round-robin over the nodes.
  const t0 = performance.now();
  const httpEvery = (1000 * BATCH) / (RATE / 2);
  let httpAccepted = 0;
  let httpFailed = 0;
  let batches = 0;
  const inFlight = new Set<Promise<void>>();
  const samples: Sample[] = [];
  let nextSample = t0;
  while (performance.now() - t0 < seconds * 1000) {
    const due = t0 + batches * httpEvery;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const i = batches++;
    const p: Promise<void> = post(ports[i % NODES]!, bodies[i % bodies.length]!).then((n) => { httpAccepted += n; }, (e: Error) => {
      httpFailed++;
      if (httpFailed <= 5) process.stderr.write(`\nHTTP batch refused: ${e.message}\n`);
    }).finally(() => inFlight.delete(p));
    inFlight.add(p);
    if (performance.now() >= nextSample) {
      nextSample += SAMPLE_MS;
      samples.push({ at: (performance.now() - t0) / 1000, rss: children.map((c) => rssMiB(c.pid!)), ...(await sampleDb(db)) });
      const last = samples.at(-1)!;
      process.stderr.write(`\r${last.at.toFixed(0)} s: RSS ${last.rss.map((r) => r.toFixed(0)).join('/')} MiB, rows live ${last.live} dead ${last.dead}, ${last.sizeMiB.toFixed(0)} MiB, autovacuums ${last.autovacuums}   `);
    }
  }
  await Promise.all(inFlight);
  const datagrams = (await Promise.all(sent)).reduce((a, b) => a + b, 0);
  const wall = (performance.now() - t0) / 1000;
  samples.push({ at: wall, rss: children.map((c) => rssMiB(c.pid!)), ...(await sampleDb(db)) });
  process.stderr.write('\n');

  // Stop cleanly (each node flushes what it holds), then count.
  agent.destroy();
  stopping = true;
  for (const c of children) c.kill('SIGTERM');
  await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r)))));
  const sum = await db.db.selectFrom('outbound_policy').select((eb) => [eb.fn.sum<number>('successful').as('ok'), eb.fn.sum<number>('failed').as('bad')]).executeTakeFirstOrThrow();
  const stored = Number(sum.ok) + Number(sum.bad);
  const acknowledged = httpAccepted + datagrams;
  await db.close();

  const at = (share: number) => samples.reduce((best, s) => (Math.abs(s.at - share * wall) < Math.abs(best.at - share * wall) ? s : best));
  console.log(`${MINUTES} min at ${RATE} events/s over ${NODES} nodes on one PostgreSQL: ${acknowledged.toLocaleString()} events acknowledged ` +
    `(${datagrams.toLocaleString()} datagrams, ${httpAccepted.toLocaleString()} over HTTP in ${batches} batches, ${httpFailed} batches refused) = ${Math.round(acknowledged / wall)}/s; ` +
    `stored ${stored.toLocaleString()}${stored === acknowledged ? ' (all)' : ` — ${acknowledged - stored} MISSING`}`);
  for (const share of [0.25, 0.5, 0.75, 1]) {
    const s = at(share);
    console.log(`  ${String(share * 100).padStart(3)} % (${s.at.toFixed(0)} s): node RSS ${s.rss.map((r) => r.toFixed(1)).join(' / ')} MiB; database ${s.sizeMiB.toFixed(1)} MiB, ` +
      `rows live ${s.live.toLocaleString()}, dead ${s.dead.toLocaleString()} ${JSON.stringify(s.deadByTable)}, autovacuum runs ${s.autovacuums}`);
  }
  const q = at(0.25);
  const end = samples.at(-1)!;
  const growth = end.rss.map((r, i) => r - q.rss[i]!);
  const flat = growth.every((g, i) => g <= Math.max(8, 0.1 * q.rss[i]!));
  const maxDead = Math.max(...samples.filter((s) => s.at >= q.at).map((s) => s.dead));
  console.log(`  memory ${flat ? 'flat' : 'GROWING'}: RSS change from 25 % to 100 % ${growth.map((g) => `${g >= 0 ? '+' : ''}${g.toFixed(1)}`).join(' / ')} MiB; ` +
    `dead rows from 25 % on at most ${maxDead.toLocaleString()} (autovacuum ran ${end.autovacuums - q.autovacuums} times meanwhile)`);
  console.log(`RESULT soak_events_per_s ${Math.round(acknowledged / wall)} 1/s`);
  console.log(`RESULT soak_rss_growth_max ${Math.max(...growth).toFixed(1)} MiB`);
  console.log(`RESULT soak_dead_rows_max ${maxDead} rows`);
  console.log(`RESULT soak_lost_events ${acknowledged - stored} events`);
} finally {
  stopping = true;
  for (const s of senders) if (s.exitCode === null) s.kill('SIGKILL');
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await cluster.stop();
  rmSync(dir, { recursive: true, force: true });
}
