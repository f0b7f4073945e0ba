/**
 * @module test/sending/build-pool — the report build worker: it builds byte for byte what the
 * in-process builder and `composeReport` (the preview) build, for random windows; a worker that
 * cannot start leaves the building to the main thread; one that dies fails its batches, which the
 * scheduler releases and builds later, none lost and none twice, on SQLite and PostgreSQL.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { gunzipSync } from 'node:zlib';
import type { Worker } from 'node:worker_threads';
import fc from 'fast-check';
import { forEachStore } from '../support/stores.js';
import { Aggregator } from '../../src/sending/collect/aggregate.js';
import { readWindow } from '../../src/analysis/outbound-windows.js';
import { ReportScheduler } from '../../src/sending/schedule/scheduler.js';
import { createBuildPool, type BuildPool } from '../../src/sending/report/build-pool.js';
import { buildFiles, packJobs, unpackJobs, type FileJob } from '../../src/sending/report/report-files.js';
import { composeReport, reportHeading, type WindowPolicyCounts } from '../../src/sending/report/report-builder.js';
import { createResolver } from '../../src/dns/index.js';
import { RESULT_TYPES } from '../../src/rfc8460/types.js';
import { plainSettings, D0, DAY } from './delivery/harness.js';
import { captureLog } from './delivery/log-capture.js';

/** The stored form of a window's policies, as `readWindowPolicies` returns it. */
function stored(policies: WindowPolicyCounts[]): FileJob['policies'] {
  return policies.map((p) => ({
    policyJson: JSON.stringify(p.policy),
    successful: p.successful,
    failed: p.failed,
    details: p.failureDetails.length
      ? p.failureDetails.map(({ failedSessionCount, ...d }) => `[${failedSessionCount},${JSON.stringify(d)}]`).join(',')
      : null,
  }));
}

const text = fc.string({ unit: 'grapheme', maxLength: 30 });
const detail = fc.record({
  resultType: fc.oneof(fc.constantFrom(...RESULT_TYPES), text),
  sendingMtaIp: fc.option(fc.ipV4(), { nil: undefined }),
  receivingMxHostname: fc.option(fc.domain(), { nil: undefined }),
  receivingIp: fc.option(fc.ipV6(), { nil: undefined }),
  additionalInformation: fc.option(text, { nil: undefined }),
  failedSessionCount: fc.integer({ min: 0, max: 5000 }),
}, { requiredKeys: ['resultType', 'failedSessionCount'] });
const policy = fc.record({
  policy: fc.record({ policyType: fc.constantFrom('sts', 'tlsa', 'no-policy-found'), policyString: fc.array(text, { maxLength: 4 }), policyDomain: fc.domain(), mxHost: fc.array(fc.domain(), { maxLength: 3 }) }),
  successful: fc.integer({ min: 0, max: 100000 }),
  failed: fc.integer({ min: 0, max: 100000 }),
  failureDetails: fc.array(detail, { maxLength: 12 }),
});
const window = fc.record({
  policyDomain: fc.domain(),
  windowStart: fc.integer({ min: 0, max: 4_000_000 }).map((h) => h * 3600),
  hours: fc.constantFrom(1, 24, 168),
  policies: fc.array(policy, { minLength: 1, maxLength: 4 }),
  maxReportSize: fc.constantFrom(5242880, 1500, 600, 100),
  orgName: text,
  unique: fc.uint8Array({ minLength: 8, maxLength: 8 }),
});

/** `n` random jobs with a plain heading (the pool tests compare threads, not settings). */
function jobsOf(n: number, seed: number): FileJob[] {
  return fc.sample(window, { numRuns: n, seed }).map((s): FileJob => ({
    reportDomain: s.policyDomain, windowStart: s.windowStart, windowEnd: s.windowStart + 3600, policies: stored(s.policies as WindowPolicyCounts[]),
    heading: { reportId: `r_${s.policyDomain}`, uniqueId: 'abc', orgName: 'o', contactInfo: 'c@example.com', maxReportSize: 5242880, submitter: 'mx.example.com' },
  }));
}

/** A worker that dies on the first chunk holding a job for a domain matching `dieOn` (test/sending/build-worker-dying.mjs). */
function dyingWorker(dieOn: string): { workerUrl: URL; workerData: unknown; dispose(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'tlsrpt-build-worker-'));
  return { workerUrl: new URL('./build-worker-dying.mjs', import.meta.url), workerData: { dieOn, marker: path.join(dir, 'died') }, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

describe('report build worker', () => {
  it('builds exactly what the in-process builder and composeReport (the preview) build', async () => {
    const samples = fc.sample(window, { numRuns: 300, seed: 8460 });
    const log = captureLog().log;
    const jobs: FileJob[] = [];
    const previews: ReturnType<typeof composeReport>[] = [];
    for (const s of samples) {
      const w = { reportDomain: s.policyDomain, windowStart: s.windowStart, windowEnd: s.windowStart + s.hours * 3600, policies: s.policies as WindowPolicyCounts[] };
      const settings = plainSettings({ orgName: s.orgName || 'org', maxReportSize: s.maxReportSize });
      const random = () => Buffer.from(s.unique);
      const { refused: _r, ...heading } = reportHeading(w, settings, log, random);
      jobs.push({ reportDomain: w.reportDomain, windowStart: w.windowStart, windowEnd: w.windowEnd, heading, policies: stored(w.policies) });
      previews.push(composeReport(w, settings, log, random));
    }
    assert.deepEqual(unpackJobs(packJobs(jobs)), jobs, 'jobs cross to the worker whole');
    const pool = createBuildPool();
    try {
      const inWorker = await pool.build(jobs);
      assert.deepEqual(inWorker, buildFiles(jobs), 'same results, same gzip bytes');
      inWorker.forEach((r, i) => {
        const json = gunzipSync(r.gz).toString();
        assert.equal(json, previews[i].json, `report ${i}`);
        assert.equal(r.fileName, previews[i].fileName);
        assert.equal(r.jsonBytes, Buffer.byteLength(json));
        assert.equal(r.trimmedDetails, previews[i].trimmedDetails);
        assert.equal(r.overLimit, previews[i].overLimit);
      });
      assert.ok(inWorker.some((r) => r.trimmedDetails > 0), 'some reports were trimmed');
    } finally {
      await pool.close();
    }
    await assert.rejects(pool.build(jobs.slice(0, 1)), /closed/);
  });

  it('builds in the main thread when the worker cannot start', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tlsrpt-build-worker-'));
    try {
      const script = path.join(dir, 'broken.mjs');
      writeFileSync(script, 'throw new Error("cannot load");\n');
      const cap = captureLog();
      let started = 0;
      const pool = createBuildPool({ log: cap.log, workerUrl: pathToFileURL(script), onWorker: () => { started++; } });
      const jobs = jobsOf(5, 1);
      const [a, b] = await Promise.all([pool.build(jobs), pool.build(jobs.slice(1))]);
      assert.deepEqual(a, buildFiles(jobs));
      assert.deepEqual(b, buildFiles(jobs.slice(1)));
      assert.deepEqual(await pool.build(jobs), buildFiles(jobs));
      assert.equal(started, 1, 'not started again');
      assert.equal(cap.find(/could not start/).length, 1);
      await pool.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a worker that dies fails the batch it was building, not the chunks it had not started; another takes over; an idle one ends', async () => {
    const workers: Worker[] = [];
    const dying = dyingWorker('^die\\.example$');
    const pool = createBuildPool({ onWorker: (w) => workers.push(w), idleMs: 50, chunk: 5, workerUrl: dying.workerUrl, workerData: dying.workerData });
    const jobs = jobsOf(20, 2);
    const poison = { ...jobs[0], reportDomain: 'die.example' };
    try {
      assert.deepEqual(await pool.build(jobs), buildFiles(jobs), 'started and ready');
      const lost = pool.build([...jobs.slice(0, 10), poison, ...jobs.slice(10)]);
      const after = pool.build(jobs);
      await assert.rejects(lost, /report build worker exited with code 3/);
      assert.deepEqual(await after, buildFiles(jobs), 'the chunks it had not started are built all the same');
      assert.equal(workers.length, 1);
      assert.deepEqual(await pool.build([poison, ...jobs]), buildFiles([poison, ...jobs]));
      assert.equal(workers.length, 2, 'a new worker took over');
      // An idle worker does not keep the process alive (nor does its timer): this test must.
      const keepAlive = setInterval(() => {}, 1000);
      await new Promise((r) => workers[1].once('exit', r)); // idle for 50 ms
      clearInterval(keepAlive);
      assert.deepEqual(await pool.build(jobs), buildFiles(jobs));
      assert.equal(workers.length, 3);
    } finally {
      await pool.close();
      dying.dispose();
    }
  });

  it('a thread waiting for a batch builds the chunks the worker has not taken, results in job order', async () => {
    const jobs = jobsOf(120, 3);
    const pool = createBuildPool({ chunk: 4 });
    try {
      // Two batches of 30 chunks: the worker holds two at a time, the rest wait for whoever is free.
      const a = pool.build(jobs.slice(0, 60));
      const b = pool.build(jobs.slice(60));
      assert.deepEqual(await pool.wait(b), buildFiles(jobs.slice(60)), 'the later batch first: its wait also built chunks of the earlier one');
      assert.deepEqual(await pool.wait(a), buildFiles(jobs.slice(0, 60)));
      const empty = pool.build([]);
      assert.deepEqual(await pool.wait(empty), []);
    } finally {
      await pool.close();
    }
  });

  it('closing fails the batches not built yet', async () => {
    const jobs = jobsOf(40, 4);
    const pool = createBuildPool({ chunk: 2 });
    const pending = pool.build(jobs);
    pending.catch(() => {});
    await pool.close();
    await assert.rejects(pending, /closed/);
  });
});

forEachStore('scheduler with a build worker', (open) => {
  it('a worker dying mid-run loses no report and builds none twice; what is sent is what preview shows', async () => {
    const store = await open();
    const N = 1150; // three batches: two full, one short
    const agg = new Aggregator({ store, sendFrequency: () => 'daily', clock: () => (D0 + 3600) * 1000 });
    for (let d = 0; d < N; d++) {
      const domain = `w${d}.example`;
      const rec = `v=TLSRPTv1; rua=mailto:r@${domain}`;
      const policy = { policyType: 'sts', policyString: ['version: STSv1', 'mode: enforce', `mx: mx.${domain}`], policyDomain: domain, mxHost: [`mx.${domain}`] };
      for (let i = 0; i < 3; i++) {
        agg.add({
          recipientDomain: domain, tlsrptRecord: rec,
          policies: [{ policy, failed: i > 0, failureDetails: i > 0 ? [{ resultType: i === 1 ? 'certificate-expired' : 'validation-failure', sendingMtaIp: '192.0.2.1', receivingMxHostname: `mx.${domain}`, receivingIp: `198.51.100.${(d % 250) + 1}` }] : [] }],
        });
      }
    }
    await agg.flush();

    // The worker dies on the first chunk of reports it takes: chunk 0 of the first batch, handed
    // to it (ready, idle) as soon as that batch is read. That batch fails; the chunks of later
    // batches it held are built all the same.
    const dying = dyingWorker('^w\\d+\\.example$');
    const real = createBuildPool({ workerUrl: dying.workerUrl, workerData: dying.workerData });
    const sizes: number[] = [];
    const pool: BuildPool = {
      build(jobs) {
        sizes.push(jobs.length);
        return real.build(jobs);
      },
      wait: (p) => real.wait(p),
      close: () => real.close(),
    };
    await real.build([{ reportDomain: 'warm.example', windowStart: D0, windowEnd: D0 + DAY, policies: [], heading: { reportId: 'r', uniqueId: 'u', orgName: 'o', contactInfo: 'c@example.com', maxReportSize: 5242880, submitter: 'mx.example.com' } }]);
    const now = { t: D0 + DAY + 60 };
    const settings = plainSettings({ orgName: 'Example Sender Org' });
    const scheduler = new ReportScheduler({
      store, log: captureLog().log, clock: () => now.t, random: () => 0, nodeId: 'node-a', settings,
      resolver: createResolver({ servers: ['127.0.0.1:9'] }), queue: undefined as never, spreadSeconds: 0, buildPool: pool,
    });
    try {
      assert.equal(await scheduler.closeDueWindows(), N);
      const first = await scheduler.buildClaimedReports();
      // PostgreSQL claimed every row at once when the claim's LIMIT sat in an `IN (subquery)`.
      assert.deepEqual(sizes, [500, 500, 150], 'batches of at most 500');
      assert.equal(first.length, N, 'every report has one outcome');
      assert.equal(new Set(first.map((o) => o.reportRowId)).size, N, 'no report claimed twice while its batch was building');
      const failed = first.filter((o) => o.state === 'deferred');
      assert.equal(failed.length, 500, 'the batch the worker died with failed, no other');
      assert.ok(failed.every((o) => /worker exited with code 3/.test(o.reason ?? '')));
      assert.equal(first.filter((o) => o.state === 'pending').length, N - failed.length);
      const released = await store.db.selectFrom('outbound_report').select(['claimed_by', 'claimed_until', 'state'])
        .where('id', 'in', failed.map((o) => o.reportRowId)).execute();
      assert.ok(released.every((r) => r.state === 'building' && r.claimed_by === null && Number(r.claimed_until) === now.t + 300), 'claims released for a retry in 300 s');

      assert.equal((await scheduler.buildClaimedReports()).length, 0, 'not retried before its time');
      now.t += 301;
      const second = await scheduler.buildClaimedReports();
      assert.deepEqual(second.map((o) => o.reportRowId).sort((a, b) => a - b), failed.map((o) => o.reportRowId).sort((a, b) => a - b));
      assert.ok(second.every((o) => o.state === 'pending'));

      const reports = await store.db.selectFrom('outbound_report').select(['id', 'window_id', 'state', 'report_id', 'gz', 'json_bytes', 'file_name']).execute();
      assert.equal(reports.length, N);
      assert.ok(reports.every((r) => r.state === 'pending'));
      assert.equal(new Set(reports.map((r) => r.report_id)).size, N, 'one report id each');
      const targets = await store.db.selectFrom('outbound_target').select(['outbound_report_id', 'uri']).execute();
      assert.equal(targets.length, N, 'one target each');
      assert.equal(new Set(targets.map((t) => Number(t.outbound_report_id))).size, N);

      // What went into the store is what `outbound preview` composes from the same window.
      for (const r of reports.filter((_, i) => i % 23 === 0)) {
        const json = gunzipSync(r.gz as Buffer).toString();
        assert.equal(Number(r.json_bytes), Buffer.byteLength(json));
        const w = (await readWindow(store, Number(r.window_id)))!;
        const uniqueId = String(r.report_id).split('_').pop()!;
        const preview = composeReport(w, settings, captureLog().log, () => Buffer.from(uniqueId, 'hex'));
        assert.equal(json, preview.json);
        assert.equal(r.file_name, preview.fileName);
      }
    } finally {
      await pool.close();
      dying.dispose();
    }
  });
});
