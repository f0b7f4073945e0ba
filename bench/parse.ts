/** @module bench/parse — throughput of the lenient report parser against the gunzip + JSON.parse floor */
import { pathToFileURL } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';
import { parseReport, RESULT_TYPES } from '../src/rfc8460/index.js';

// A seeded PRNG: the corpus is the same on every run, so runs compare.
let seed = 0x5eed;
function rnd(): number {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)];
const hex = (n: number) => Array.from({ length: n }, () => '0123456789ABCDEF'[int(0, 15)]).join('');
const ipv4 = () => `${int(1, 223)}.${int(0, 255)}.${int(0, 255)}.${int(1, 254)}`;
const ipv6 = () => `2001:db8:${hex(4).toLowerCase()}:${int(0, 99)}::${int(1, 999)}`;
const domain = () => `${pick(['mail', 'corp', 'shop', 'news', 'acme', 'example'])}${int(1, 9999)}.${pick(['com', 'net', 'org', 'de', 'io', 'co.uk'])}`;
const isoDay = (d: number, endOfDay: boolean) => new Date((d * 86400 + (endOfDay ? 86399 : 0)) * 1000).toISOString().slice(0, 19) + 'Z';

type Shape = 'google' | 'microsoft' | 'mailru' | 'stalwart' | 'rfc';

function detail(shape: Shape, mx: string): Record<string, unknown> {
  const d: Record<string, unknown> = { 'result-type': pick(RESULT_TYPES) };
  if (shape === 'mailru') {
    d['failed-session-count'] = int(1, 50);
    d['failure-reason-code'] = pick(['bad https response code: 404', 'certificate verify failed', 'timeout']);
    return d;
  }
  d['sending-mta-ip'] = rnd() < 0.3 ? ipv6() : ipv4();
  d['receiving-mx-hostname'] = mx;
  d['receiving-ip'] = ipv4();
  if (shape === 'stalwart') d['receiving-mx-helo'] = rnd() < 0.5 ? mx : null;
  d['failed-session-count'] = int(1, 500);
  if (rnd() < 0.3) d['additional-information'] = `https://reports.${domain()}/info?id=${hex(12)}`;
  if (rnd() < 0.4) d['failure-reason-code'] = pick(['X509_V_ERR_CERT_HAS_EXPIRED', 'X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT', 'no-policy-served']);
  return d;
}

function policy(shape: Shape, policyDomain: string): Record<string, unknown> {
  const type = pick(['sts', 'sts', 'tlsa', 'no-policy-found'] as const);
  const mx = `mx${int(1, 3)}.${policyDomain}`;
  const p: Record<string, unknown> = { 'policy-type': type };
  if (type === 'sts') p['policy-string'] = ['version: STSv1', `mode: ${pick(['enforce', 'testing'])}`, `mx: *.${policyDomain}`, `max_age: ${pick([86400, 604800, 2592000])}`];
  if (type === 'tlsa') {
    const rrs = Array.from({ length: int(1, 3) }, () => `3 1 1 ${hex(64)}`);
    p['policy-string'] = shape === 'microsoft' ? [JSON.stringify(rrs)] : rrs;
  }
  p['policy-domain'] = policyDomain;
  if (type === 'sts' && shape !== 'microsoft' && shape !== 'mailru') p['mx-host'] = shape === 'rfc' && rnd() < 0.5 ? `*.${policyDomain}` : [`*.${policyDomain}`];
  const failures = rnd() < 0.4 ? 0 : int(1, 20);
  const details = Array.from({ length: failures }, () => detail(shape, mx));
  const sum = details.reduce((n, d) => n + (d['failed-session-count'] as number), 0);
  const out: Record<string, unknown> = { policy: p, summary: { 'total-successful-session-count': int(0, 100000), 'total-failure-session-count': sum } };
  if (details.length > 0 || shape !== 'google') out['failure-details'] = details;
  return out;
}

function report(): { json: string; shape: Shape } {
  const shape = pick(['google', 'google', 'microsoft', 'microsoft', 'mailru', 'stalwart', 'rfc'] as const);
  const policyDomain = domain();
  const day = int(19000, 20500);
  const org = { google: 'Google Inc.', microsoft: 'Microsoft Corporation', mailru: 'Mail.ru', stalwart: 'Stalwart Mail Server', rfc: 'Company-X' }[shape];
  const contact = { google: 'smtp-tls-reporting@google.com', microsoft: 'tlsrpt-noreply@microsoft.com', mailru: 'tls_support@corp.mail.ru', stalwart: null, rfc: 'sts-reporting@company-x.example' }[shape];
  const id = { google: `${isoDay(day, false)}_${policyDomain}`, microsoft: `${int(1e17, 9e17)}+${policyDomain}`, mailru: `${hex(8)}-${hex(4)}@mail.ru`, stalwart: `${hex(16)}`, rfc: `${hex(8)}-${hex(4)}-${hex(4)}` }[shape];
  const doc = {
    'organization-name': org,
    'date-range': { 'start-datetime': isoDay(day, false), 'end-datetime': shape === 'mailru' ? isoDay(day + 1, false) : isoDay(day, true) },
    'contact-info': contact,
    'report-id': id,
    policies: Array.from({ length: int(1, 5) }, () => policy(shape, policyDomain)),
  };
  // Senders differ in layout too: Google and Mail.ru send compact JSON, others indent.
  const indent = shape === 'stalwart' || shape === 'rfc' ? 4 : shape === 'microsoft' ? 2 : undefined;
  return { json: JSON.stringify(doc, null, indent), shape };
}

/** A seeded corpus of gzipped reports in varied senders' shapes (exported for profiling). */
export function generateCorpus(count: number): { corpus: Buffer[]; jsonBytes: number; gzBytes: number } {
  const corpus: Buffer[] = [];
  let jsonBytes = 0, gzBytes = 0;
  for (let i = 0; i < count; i++) {
    const { json } = report();
    const gz = gzipSync(json);
    corpus.push(gz);
    jsonBytes += Buffer.byteLength(json);
    gzBytes += gz.length;
  }
  return { corpus, jsonBytes, gzBytes };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) main();

function main(): void {
  const COUNT = Number(process.env.BENCH_REPORTS ?? 3000);
  const { corpus, jsonBytes, gzBytes } = generateCorpus(COUNT);
  console.log(`corpus: ${COUNT} reports, ${(jsonBytes / 1e6).toFixed(2)} MB JSON, ${(gzBytes / 1e6).toFixed(2)} MB gzip (avg ${Math.round(jsonBytes / COUNT)} B JSON)`);

  // Each side returns a digest of what it read (policies and session totals): the rounds compare
  // them, so a parser that skipped work or lost data cannot print a figure.
  type Summary = { 'total-successful-session-count'?: number; 'total-failure-session-count'?: number };
  function floorChunk(chunk: Buffer[]): number {
    let n = 0;
    for (const gz of chunk) {
      for (const p of (JSON.parse(gunzipSync(gz).toString('utf8')) as { policies: { summary?: Summary }[] }).policies) {
        n += 1 + (p.summary?.['total-successful-session-count'] ?? 0) + (p.summary?.['total-failure-session-count'] ?? 0);
      }
    }
    return n;
  }
  function oursChunk(chunk: Buffer[]): number {
    let n = 0;
    for (const gz of chunk) {
      for (const p of parseReport(gunzipSync(gz)).report.policies) n += 1 + p.summary.totalSuccessfulSessionCount + p.summary.totalFailureSessionCount;
    }
    return n;
  }
  // The machine is shared (other work's tests run alongside), and wall-clock time swings with that
  // load. So time is this process's CPU time (user + system, all threads: GC helpers count), taken
  // in small chunks, floor and ours back to back in alternating order. Each round sums its chunks;
  // the ratio reported is the median over rounds, the throughput that of the best round.
  const now = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };
  const CHUNK = 100;
  const chunks: Buffer[][] = [];
  for (let i = 0; i < corpus.length; i += CHUNK) chunks.push(corpus.slice(i, i + CHUNK));
  for (let i = 0; i < 3; i++) for (const c of chunks) { floorChunk(c); oursChunk(c); }
  const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 11);
  const rounds: { floor: number; ours: number }[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    (globalThis as { gc?: () => void }).gc?.();
    let f = 0, o = 0, fd = 0, od = 0;
    for (const [k, c] of chunks.entries()) {
      if ((k + r) % 2 === 0) {
        let t = now(); fd += floorChunk(c); f += now() - t;
        t = now(); od += oursChunk(c); o += now() - t;
      } else {
        let t = now(); od += oursChunk(c); o += now() - t;
        t = now(); fd += floorChunk(c); f += now() - t;
      }
    }
    if (fd !== od || od === 0) throw new Error(`round ${r}: parseReport read ${od} (policies + sessions), JSON.parse ${fd}: no figure from a wrong result`);
    rounds.push({ floor: f, ours: o });
  }
  const ratios = rounds.map((r) => r.floor / r.ours).sort((a, b) => a - b);
  const median = ratios[Math.floor(ratios.length / 2)];
  const bestFloor = Math.min(...rounds.map((r) => r.floor));
  const bestOurs = Math.min(...rounds.map((r) => r.ours));
  const rps = (s: number) => COUNT / s;
  const mbps = (s: number) => jsonBytes / 1e6 / s;
  console.log(`floor (gunzipSync + JSON.parse):  ${rps(bestFloor).toFixed(0)} reports/s, ${mbps(bestFloor).toFixed(1)} MB/s of JSON (per CPU second)`);
  console.log(`ours  (gunzipSync + parseReport): ${rps(bestOurs).toFixed(0)} reports/s, ${mbps(bestOurs).toFixed(1)} MB/s of JSON (per CPU second)`);
  console.log(`ratio per round: min ${ratios[0].toFixed(2)}, median ${median.toFixed(2)}, max ${ratios[ratios.length - 1].toFixed(2)} (target >= 0.60)`);
  console.log(`RESULT parse_reports_per_s ${rps(bestOurs).toFixed(0)} reports/s`);
  console.log(`RESULT parse_mb_per_s ${mbps(bestOurs).toFixed(1)} MB/s`);
  console.log(`RESULT ratio_vs_floor ${median.toFixed(2)} x`);
}
