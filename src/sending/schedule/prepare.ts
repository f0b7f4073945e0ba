/**
 * @module sending/schedule/prepare — everything of a claimed batch that needs the store, the
 * settings or DNS (counters, rua discovery, headings), and folding the built files back into the
 * batch's results. What is left between the two is pure (report/build-pool).
 */
import { readWindowPolicies, type PolicyRow } from '../report/window-batch.js';
import { reportHeading } from '../report/report-builder.js';
import { discoverRuaTargets, type Discovery } from '../report/discovery.js';
import type { FileJob, FileResult } from '../report/report-files.js';
import { deliveryMetrics } from '../deliver/metrics.js';
import { BUILD_GIVE_UP_SECONDS, LOOKUP_CONCURRENCY, outcome, type Batch, type Built, type ClaimedReport, type SchedulerDeps } from './types.js';
import { at } from '../../common/checked.js';

/**
 * Everything of a batch that needs the store, the settings or DNS: the counters, the record
 * lookups (a few at a time: most answers come from the MTA's record or the cache, the rest
 * wait on DNS, not on each other), and each report's heading. What is left to build is pure.
 */
export async function prepareBatch(deps: SchedulerDeps, batch: Batch): Promise<FileJob[]> {
  const { settings } = deps;
  const { rows, results } = batch;
  const toRead: number[] = [];
  rows.forEach((r, i) => {
    // docs/spec/settings.md: `never` switches sending off completely — no DNS lookup, no report.
    if (settings.sendFrequency(r.reportDomain) === 'never') {
      deliveryMetrics.windowsDropped.inc({ reason: 'never' });
      results[i] = { finish: { state: 'skipped', reason: 'sendFrequency is never' }, outcome: outcome(r, 'skipped', 'sendFrequency is never') };
    } else toRead.push(i);
  });
  const windows = await readWindowPolicies(deps.store, toRead.map((i) => at(rows, i).windowId));
  const ready: { i: number; found: Extract<Discovery, { kind: 'ok' }> }[] = [];
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(LOOKUP_CONCURRENCY, toRead.length) }, async () => {
    for (let i = toRead[next++]; i !== undefined; i = toRead[next++]) {
      const row = at(rows, i);
      const r = await discover(deps, row, windows.get(row.windowId));
      if ('found' in r) ready.push({ i, found: r.found });
      else results[i] = r;
    }
  }));
  // Headings in row order, so report ids are drawn in the same order whatever DNS answered first.
  ready.sort((a, b) => a.i - b.i);
  const jobs: FileJob[] = [];
  for (const { i, found } of ready) {
    const r = at(rows, i);
    const { refused, ...heading } = reportHeading(r, settings, deps.log);
    for (const f of refused) deliveryMetrics.settingsRefused.inc({ field: f.field });
    batch.toBuild.push({ i, found, reportId: heading.reportId });
    jobs.push({ reportDomain: r.reportDomain, windowStart: r.windowStart, windowEnd: r.windowEnd, heading, policies: windows.get(r.windowId)! });
  }
  return jobs;
}

/** Where a window's report goes, or why it has none (dropped, or deferred while DNS fails). */
async function discover(deps: SchedulerDeps, r: ClaimedReport, policies: PolicyRow[] | undefined): Promise<Built | { found: Extract<Discovery, { kind: 'ok' }> }> {
  const { log } = deps;
  const sessions = (policies ?? []).reduce((n, p) => n + p.successful + p.failed, 0);
  if (!policies || sessions === 0) {
    deliveryMetrics.windowsDropped.inc({ reason: 'no-data' });
    return { finish: { state: 'dropped', reason: 'no sessions in the window' }, outcome: outcome(r, 'dropped', 'no sessions in the window') };
  }
  const mtaRecords = new Map<string, number>();
  for (const p of policies) {
    if (p.tlsrptRecord) mtaRecords.set(p.tlsrptRecord, (mtaRecords.get(p.tlsrptRecord) ?? 0) + p.successful + p.failed);
  }
  const found = await discoverRuaTargets(r.reportDomain, [...mtaRecords].map(([record, n]) => ({ record, sessions: n })), {
    resolver: deps.resolver, cache: deps.tlsrptCache,
  });
  const now = deps.clock();
  if (found.kind === 'temporary') {
    if (now - r.createdAt >= BUILD_GIVE_UP_SECONDS) {
      const reason = `TLSRPT record lookup failed for a day: ${found.reason}`;
      deliveryMetrics.windowsDropped.inc({ reason: 'dns-failure' });
      log.warn({ reportDomain: r.reportDomain, sessions, reason }, 'window dropped: no report');
      return { finish: { state: 'dropped', reason }, outcome: outcome(r, 'dropped', reason) };
    }
    log.warn({ reportDomain: r.reportDomain, reason: found.reason }, 'TLSRPT record lookup failed, will retry');
    return { defer: found.reason, outcome: outcome(r, 'deferred', found.reason) };
  }
  if (found.kind === 'none') {
    // RFC 8460 §3: without exactly one valid record there is nowhere to send; the window's
    // data is dropped, and counted so an operator can see how much goes unreported.
    deliveryMetrics.windowsDropped.inc({ reason: 'no-record' });
    log.info({ reportDomain: r.reportDomain, sessions, reason: found.reason }, 'window dropped: no usable TLSRPT record');
    return { finish: { state: 'dropped', reason: found.reason, record_source: found.source }, outcome: outcome(r, 'dropped', found.reason) };
  }
  for (const ig of found.ignored) log.info({ reportDomain: r.reportDomain, uri: ig.uri, reason: ig.reason }, 'rua URI ignored');
  return { found };
}

/** The built files into the batch's results: what is stored, logged and counted of each report. */
export function addFiles(deps: SchedulerDeps, batch: Batch, files: FileResult[]): void {
  const { log } = deps;
  batch.toBuild.forEach(({ i, found, reportId }, k) => {
    const f = at(files, k);
    const r = at(batch.rows, i);
    if (f.trimmedDetails) {
      deliveryMetrics.reportsTrimmed.inc();
      deliveryMetrics.detailsTrimmed.inc(f.trimmedDetails);
      log.warn({ reportDomain: r.reportDomain, reportId, trimmedDetails: f.trimmedDetails, bytes: f.jsonBytes, overLimit: f.overLimit },
        'report trimmed to maxReportSize: smallest failure details dropped, totals kept');
    }
    const targets = found.rua.map((t) => (t.scheme === 'mailto'
      ? { uri: `mailto:${t.address}`, scheme: 'mailto' }
      : { uri: t.url, scheme: 'https' }));
    batch.results[i] = {
      pending: {
        report_id: reportId, json_bytes: f.jsonBytes, gz: f.gz, file_name: f.fileName,
        record_source: found.source, tlsrpt_record: found.record, trimmed_details: f.trimmedDetails, targets,
      },
      outcome: { ...outcome(r, 'pending'), reportId, targets: targets.map((t) => t.uri) },
      dueAt: r.dueAt,
    };
  });
}
