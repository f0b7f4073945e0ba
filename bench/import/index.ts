/**
 * @module bench/import — `tlsrpt import` throughput and memory: generates N realistic report
 * e-mails (20 reporters, 50 policy domains, 1–3 policies each with failure details, gzip
 * attachments, DKIM-signed by the reporter with keys served by a loopback DNS server) into a
 * temporary maildir, then imports them in a child process (`run.ts`: the same wiring as the
 * CLI — configured ingestor, real DKIM verification, SQLite store) and reports reports/s,
 * peak RSS, and RSS after 25 %, 50 % and 100 % of the inputs (flat = streaming).
 *
 *   npm run bench -- import [count=10000] [threads=cores-1]
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { startDnsServer } from '../../test/support/dns-server.js';
import { buildReportMail, makeDkimKey, signMail, txtStrings } from '../../test/receiving/support/report-mail.js';
import { seededRandom } from '../support.js';

const COUNT = Number(process.argv[2] ?? 10_000);
// As `tlsrpt import` does by default: analysis in cores-1 worker threads, store work in the main thread.
const THREADS = Number(process.argv[3] ?? Math.min(4, availableParallelism() - 1));
const REPORTERS = 20;
const DOMAINS = 50;

const rnd = seededRandom(0x7e5);
const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)];
const RESULT_TYPES = ['certificate-expired', 'starttls-not-supported', 'validation-failure', 'certificate-host-mismatch', 'sts-policy-fetch-error', 'tlsa-invalid'];

function report(i: number, submitter: string, day: string): { json: string; policyDomain: string } {
  const nPolicies = 1 + Math.floor(rnd() * 3);
  const domains = Array.from({ length: nPolicies }, () => `customer${Math.floor(rnd() * DOMAINS)}.example`);
  const policies = domains.map((d) => {
    const failed = rnd() < 0.4 ? Math.floor(rnd() * 20) : 0;
    const mx = [`mx1.${d}`, `mx2.${d}`];
    return {
      policy: { 'policy-type': 'sts', 'policy-string': ['version: STSv1', 'mode: enforce', ...mx.map((m) => `mx: ${m}`), 'max_age: 604800'], 'policy-domain': d, 'mx-host': mx },
      summary: { 'total-successful-session-count': Math.floor(rnd() * 5000), 'total-failure-session-count': failed },
      ...(failed ? { 'failure-details': [{ 'result-type': pick(RESULT_TYPES), 'sending-mta-ip': `192.0.2.${i % 250}`, 'receiving-mx-hostname': mx[0], 'receiving-ip': `198.51.100.${i % 200}`, 'failed-session-count': failed }] } : {}),
    };
  });
  return {
    policyDomain: domains[0],
    json: JSON.stringify({
      'organization-name': `${submitter} Mail`,
      'date-range': { 'start-datetime': `${day}T00:00:00Z`, 'end-datetime': `${day}T23:59:59Z` },
      'contact-info': `smtp-tls-reporting@${submitter}`,
      'report-id': `${day}T00:00:00Z_${domains[0]}_${i}`,
      policies,
    }),
  };
}

const dir = mkdtempSync(path.join(tmpdir(), 'tlsrpt-bench-import-'));
const maildir = path.join(dir, 'Maildir');
for (const d of ['cur', 'new', 'tmp']) mkdirSync(path.join(maildir, d), { recursive: true });
const reporters = Array.from({ length: REPORTERS }, (_, i) => makeDkimKey(`reporter${i}.example`, 'tlsrpt'));
const dns = await startDnsServer(Object.fromEntries(reporters.map((k) => [k.dnsName, { TXT: [txtStrings(k.txt)] }])));
try {
  const t0 = Date.now();
  let bytes = 0;
  for (let i = 0; i < COUNT; i++) {
    const key = reporters[i % REPORTERS];
    const day = new Date(Date.UTC(2026, 0, 1) + Math.floor(i / 200) * 86400_000).toISOString().slice(0, 10);
    const r = report(i, key.domain, day);
    const signed = await signMail(buildReportMail({ reportJson: r.json, policyDomain: r.policyDomain, submitter: key.domain }), key);
    bytes += signed.length;
    writeFileSync(path.join(maildir, 'cur', `${1764000000 + i}.M${i}P1.bench:2,S`), signed);
  }
  console.log(`generated ${COUNT} DKIM-signed report e-mails (${(bytes / 1e6).toFixed(1)} MB, ${REPORTERS} reporters, ${DOMAINS} policy domains) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

  const cfg = path.join(dir, 'tlsrpt.json');
  writeFileSync(cfg, JSON.stringify({ store: { sqlite: path.join(dir, 'bench.db') }, dns: { servers: dns.servers } }));
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, 'run.ts'), cfg, maildir, String(COUNT), String(THREADS)], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, TLSRPT_LOG_LEVEL: 'warn' } });
  let out = '';
  child.stdout.on('data', (d) => { out += d; process.stdout.write(d); });
  const code = await new Promise<number>((resolve) => child.on('exit', (c) => resolve(c ?? 1)));
  if (code !== 0) throw new Error(`import child exited with ${code}`);
  if (process.env.BENCH_KEEP) console.log(`config ${cfg} maildir ${maildir}`);
  const result = JSON.parse(out.trim().split('\n').pop()!);
  if (result.counts.imported !== COUNT || result.dkimPass !== COUNT) throw new Error(`expected ${COUNT} imported with DKIM pass, got ${JSON.stringify(result)}`);
  console.log(`RSS after ${result.checkpoints.map((c: { inputs: number; rssMb: number }) => `${c.inputs}: ${c.rssMb} MB`).join(', ')}`);
  console.log(`CPU ${result.cpuMsPerReport} ms per report (all threads), ${THREADS} analysis thread(s), load average ${(await import('node:os')).loadavg()[0].toFixed(1)} during the run`);
  console.log(`RESULT import_reports_per_s ${Math.round(result.reportsPerSecond)} 1/s`);
  console.log(`RESULT peak_rss_mb ${result.peakRssMb} MB`);
  console.log(`RESULT rss_growth_25_to_100_pct_mb ${result.rssGrowthMb} MB`);
  if (result.alerts) {
    console.log(`alert evaluation of ${COUNT} reports: ${result.alerts.seconds.toFixed(2)} s, ${result.alerts.raised} alert(s) raised (import ${result.seconds.toFixed(2)} s)`);
    console.log(`RESULT alert_eval_pct_of_import ${(100 * result.alerts.seconds / result.seconds).toFixed(1)} %`);
  }
} finally {
  if (process.env.BENCH_KEEP) {
    console.log(`kept ${dir}; DNS server stays up until Ctrl-C`);
    await new Promise(() => {});
  }
  await dns.close();
  rmSync(dir, { recursive: true, force: true });
}
