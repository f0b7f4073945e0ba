/**
 * @module bench/report — report building and delivery throughput.
 * 1. One daily window for 100,000 policy domains (two policies, three failure details each,
 *    the TLSRPT record supplied by the MTA) in a SQLite store: close the windows and build
 *    every report (read counters, compose RFC JSON, gzip, store report + target). Seconds and
 *    peak RSS (targets ≤ 10 s, ≤ 512 MB).
 * 2. Deliver 10,000 built reports (MIME + DKIM + SMTP) to a loopback smtp-server sink: reports/s.
 * Usage: npm run bench -- report [domains] [deliver]
 * BENCH_STORE=postgres runs both on a throwaway PostgreSQL 15 cluster (test/support/postgres.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { dkimVerify } from 'mailauth/lib/dkim/verify.js';
import { pino } from 'pino';
import { sql } from 'kysely';
import { openStore, type Store } from '../../src/store/index.js';
import { ReportScheduler } from '../../src/sending/schedule/scheduler.js';
import { DeliveryQueue } from '../../src/sending/deliver/queue.js';
import { createRelayMailer } from '../../src/sending/deliver/mail.js';
import { createResolver } from '../../src/dns/index.js';
import type { ReportSettingsSource } from '../../src/sending/report/settings-view.js';
import { startSmtpSink } from '../../test/support/smtp-sink.js';
import { startPostgres, type PostgresCluster } from '../../test/support/postgres.js';
import { DAY, START, seed } from './seed.js';

const DOMAINS = Number(process.argv[2] ?? 100_000);
const DELIVER = Number(process.argv[3] ?? 10_000);
const ON_PG = process.env.BENCH_STORE === 'postgres';
let cluster: PostgresCluster | undefined;

/** A fresh store per phase: a SQLite file, or a new database of the throwaway cluster. */
async function benchStore(name: string): Promise<Store> {
  if (!ON_PG) return openStore({ sqlite: path.join(dir, `${name}.db`) });
  cluster ??= await startPostgres();
  const admin = await openStore({ postgres: cluster.url }, { skipMigrations: true });
  await sql.raw(`create database bench_${name}`).execute(admin.db);
  await admin.close();
  return openStore({ postgres: cluster.url.replace(/\/postgres$/, `/bench_${name}`) });
}
const log = pino({ level: 'error' });

const settings: ReportSettingsSource = {
  tlsReport: () => ({
    fromName: 'Report Subsystem', fromAddress: 'noreply-tls@example.com', subject: 'TLS Aggregate Report', orgName: 'Example Org',
    contactInfo: 'tls@example.com', maxReportSize: 5242880, dkimSignDomain: 'example.com', submitter: 'mx.example.com',
  }),
  sendFrequency: () => 'daily',
  outboundReportSubmitter: () => 'mx.example.com',
  system: () => ({ domain: 'example.com', hostname: 'mx.example.com' }),
};

function components(store: Store, mailer?: ReturnType<typeof createRelayMailer>, key?: { domain: string; selector: string; privateKey: string }) {
  const clock = () => START + DAY + 60;
  const queue = new DeliveryQueue({
    store, log, clock, random: Math.random, nodeId: 'bench', settings, mailer, dkimKeys: key ? [key] : [],
    https: { lookup: async () => [], allowPrivateTargets: false },
  });
  const scheduler = new ReportScheduler({
    store, log, clock, random: () => 0, nodeId: 'bench', settings, resolver: createResolver({ servers: ['127.0.0.1:9'] }), queue, spreadSeconds: 0,
  });
  return { queue, scheduler };
}

/** Every 97th built report (and the last) read back: the seeded counters, exactly, for its own domain. */
async function checkBuilt(store: Store): Promise<void> {
  const rows = await store.db.selectFrom('outbound_report').select(['id', 'report_domain', 'gz', 'file_name']).where('state', '=', 'pending').orderBy('id').execute();
  if (rows.length !== DOMAINS) throw new Error(`${rows.length} pending reports, expected ${DOMAINS}`);
  for (let i = 0; i < rows.length; i += 97) {
    const r = rows[i];
    const doc = JSON.parse(gunzipSync(r.gz!).toString()) as { policies: { policy: { 'policy-domain': string }; summary: Record<string, number>; 'failure-details': unknown[] }[] };
    const bad = doc.policies.length !== 2 || doc.policies.some((p) => p.policy['policy-domain'] !== r.report_domain
      || p.summary['total-successful-session-count'] !== 1000 || p.summary['total-failure-session-count'] !== 6 || p['failure-details'].length !== 3);
    if (bad || !r.file_name?.includes(`!${r.report_domain}!`)) throw new Error(`report ${r.id} for ${r.report_domain} does not hold the seeded counters: ${JSON.stringify(doc).slice(0, 300)}`);
  }
}

/** Every 50th delivered mail carries a DKIM signature that verifies with the bench key. */
async function checkSigned(mails: Buffer[], key: { domain: string; selector: string }, privateKey: import('node:crypto').KeyObject): Promise<void> {
  const { createPublicKey } = await import('node:crypto');
  const p = createPublicKey(privateKey).export({ type: 'spki', format: 'der' }).toString('base64');
  const txt = `v=DKIM1; k=rsa; p=${p}`;
  const name = `${key.selector}._domainkey.${key.domain}`;
  const resolver = async (n: string, t: string) => {
    if (t === 'TXT' && n === name) return [txt.match(/.{1,255}/g)!];
    throw Object.assign(new Error(`ENOTFOUND ${n}`), { code: 'ENOTFOUND' });
  };
  for (let i = 0; i < mails.length; i += 50) {
    const out = await dkimVerify(mails[i], { resolver: resolver as never });
    if (!(out.results as { status: { result: string } }[]).some((r) => r.status.result === 'pass')) throw new Error(`mail ${i} is not DKIM-signed with the bench key: ${JSON.stringify(out.results.map((r: { status: unknown }) => r.status))}`);
  }
}

const dir = mkdtempSync(path.join(tmpdir(), 'tlsrpt-bench-report-'));
try {
  // 1. Build.
  const store = await benchStore('build');
  let t = performance.now();
  await seed(store, DOMAINS);
  console.log(`seeded ${DOMAINS} windows (2 policies, 3 failure details each) in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  global.gc?.();
  const rssBefore = process.memoryUsage().rss;
  let peak = rssBefore;
  const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 50);
  const { scheduler } = components(store);
  t = performance.now();
  const closed = await scheduler.closeDueWindows();
  const built = await scheduler.buildClaimedReports();
  const buildSeconds = (performance.now() - t) / 1000;
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss, process.resourceUsage().maxRSS * 1024);
  const ok = built.filter((b) => b.state === 'pending').length;
  if (closed !== DOMAINS || ok !== DOMAINS) throw new Error(`closed ${closed}, built ${ok} of ${DOMAINS}`);
  console.log(`closed ${closed} windows and built ${ok} reports in ${buildSeconds.toFixed(2)} s (${Math.round(ok / buildSeconds)} reports/s); RSS ${Math.round(rssBefore / 1048576)} MB before, peak ${Math.round(peak / 1048576)} MB`);
  await checkBuilt(store);
  await store.close();

  // 2. Deliver.
  const dstore = await benchStore('deliver');
  await seed(dstore, DELIVER);
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const key = { domain: 'example.com', selector: 'tlsrpt', privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string };
  const sink = await startSmtpSink();
  const mailer = createRelayMailer({ host: '127.0.0.1', port: sink.port, secure: false, maxConnections: 8 });
  const d = components(dstore, mailer, key);
  await d.scheduler.closeDueWindows();
  await d.scheduler.buildClaimedReports();
  t = performance.now();
  const attempts = await d.queue.runDue({ force: true, concurrency: 16, limit: 1000 });
  const deliverSeconds = (performance.now() - t) / 1000;
  const sent = attempts.filter((a) => a.state === 'sent').length;
  mailer.close();
  await sink.close();
  await dstore.close();
  if (sent !== DELIVER || sink.received.length !== DELIVER) throw new Error(`sent ${sent}, sink got ${sink.received.length} of ${DELIVER}`);
  await checkSigned(sink.received.map((m) => m.raw), key, privateKey);
  console.log(`delivered ${sent} DKIM-signed report mails to a loopback SMTP sink in ${deliverSeconds.toFixed(2)} s`);

  const tag = ON_PG ? '_postgres' : '';
  console.log(`RESULT build${tag}_seconds ${buildSeconds.toFixed(2)} s`);
  console.log(`RESULT build${tag}_peak_rss_mb ${Math.round(peak / 1048576)} MB`);
  console.log(`RESULT deliver${tag}_reports_per_s ${Math.round(sent / deliverSeconds)} 1/s`);
} finally {
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
}
