/**
 * @module sending/report/report-builder — turns one closed window of one report domain into the RFC
 * 8460 report: identity from the settings, the window as date-range, every policy with exact
 * summary totals and its failure details. `maxReportSize` applies to the serialized JSON:
 * when over, the failure-detail rows with the smallest counts are dropped until it fits
 * (the totals stay exact — the project's rule where Stalwart drops whole events).
 */
import { randomBytes } from 'node:crypto';
import { serializeReport } from '../../rfc8460/serialize.js';
import { reportFileName } from '../../rfc8460/naming.js';
import type { FailureDetail, Policy, PolicyResult, TlsReport } from '../../rfc8460/types.js';
import type { Logger } from '../../common/log.js';
import { checkedReportValues, type ReportSettingsSource } from './settings-view.js';
import { isoSeconds } from '../../common/time.js';

/** One policy of a window with its counters, as the collector stored them (`WindowPolicy` of sending/windows). */
export interface WindowPolicyCounts {
  policy: Policy;
  successful: number;
  failed: number;
  failureDetails: FailureDetail[];
}

export interface ReportIdentity {
  organizationName: string;
  /** contactInfo, or fromAddress when unset (RFC 8460 §4.4 requires a contact). */
  contactInfo: string;
  reportId: string;
}

export interface BuiltReport {
  report: TlsReport;
  /** Serialized RFC JSON; `Buffer.byteLength(json) <= maxReportSize` unless `overLimit`. */
  json: string;
  /** Failure-detail rows dropped to fit maxReportSize. */
  trimmedDetails: number;
  /** True when even without any failure detail the report is larger than maxReportSize. */
  overLimit: boolean;
}


/**
 * A unique report-id: the window start, the report domain and 64 random bits, e.g.
 * `2026-11-27T00:00:00Z_example.net_3f2a9c01b7d4e655`. `random` is injectable for golden tests.
 */
export function newReportId(reportDomain: string, windowStart: number, random: () => Buffer = random8): { reportId: string; uniqueId: string } {
  const uniqueId = random().toString('hex');
  return { reportId: `${isoSeconds(windowStart)}_${reportDomain}_${uniqueId}`, uniqueId };
}

/** Stable order: policies by type, domain and text; details by count (largest first), then by content. */
function sortPolicies(policies: WindowPolicyCounts[]): WindowPolicyCounts[] {
  if (policies.length < 2) return policies;
  const keyed = policies.map((p) => ({ p, k: JSON.stringify([p.policy.policyType, p.policy.policyDomain, p.policy.policyString, p.policy.mxHost]) }));
  keyed.sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0));
  return keyed.map((x) => x.p);
}

function sortDetails(details: FailureDetail[]): FailureDetail[] {
  const live = details.filter((d) => d.failedSessionCount > 0);
  if (live.length < 2) return live;
  // The content key is only needed to order equal counts; most rows never need it.
  const keyed = live.map((d) => ({ d, k: '' }));
  const key = (x: { d: FailureDetail; k: string }) => (x.k ||= JSON.stringify(x.d));
  keyed.sort((a, b) => {
    if (a.d.failedSessionCount !== b.d.failedSessionCount) return b.d.failedSessionCount - a.d.failedSessionCount;
    const ka = key(a);
    const kb = key(b);
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  });
  return keyed.map((x) => x.d);
}

// Random bytes for report ids drawn in blocks: one getrandom call per 1,024 reports.
let pool = Buffer.alloc(0);
let poolAt = 0;
function random8(): Buffer {
  if (poolAt + 8 > pool.length) {
    pool = randomBytes(8192);
    poolAt = 0;
  }
  poolAt += 8;
  return pool.subarray(poolAt - 8, poolAt);
}

/**
 * Builds the report for one window. `windowEnd` is exclusive (the next window's start); the
 * date-range ends at the window's last second (RFC 8460 §4.1: 00:00:00Z to 23:59:59Z).
 * @example
 * buildReport({ identity, windowStart: 1764201600, windowEnd: 1764288000, policies, maxReportSize: 5242880 })
 */
export function buildReport(a: {
  identity: ReportIdentity;
  windowStart: number;
  windowEnd: number;
  policies: WindowPolicyCounts[];
  maxReportSize: number;
}): BuiltReport {
  const sorted = sortPolicies(a.policies);
  const results: PolicyResult[] = sorted.map((p) => ({
    policy: p.policy,
    summary: { totalSuccessfulSessionCount: p.successful, totalFailureSessionCount: p.failed },
    failureDetails: sortDetails(p.failureDetails),
  }));
  const report: TlsReport = {
    organizationName: a.identity.organizationName,
    dateRange: { startDatetime: isoSeconds(a.windowStart), endDatetime: isoSeconds(a.windowEnd - 1) },
    contactInfo: a.identity.contactInfo,
    reportId: a.identity.reportId,
    policies: results,
  };
  const json = serializeReport(report);
  const limit = a.maxReportSize;
  if (!(limit > 0) || Buffer.byteLength(json) <= limit) return { report, json, trimmedDetails: 0, overLimit: false };
  return trimToFit(report, json, limit);
}

/**
 * Drops the smallest failure-detail rows until the JSON fits. Each row's share of the JSON is
 * estimated from its own serialization, so one pass picks the rows and a few exact passes
 * confirm — linear, not one serialization per dropped row.
 */
function trimToFit(report: TlsReport, json: string, limit: number): BuiltReport {
  type Row = { p: number; d: number; count: number; bytes: number; order: string };
  const rows: Row[] = [];
  // A row's bytes: the difference it makes to a tiny report with one policy, so the estimate
  // costs the same whatever the size of the real report.
  const stub = (failureDetails: FailureDetail[]): number => Buffer.byteLength(serializeReport({
    organizationName: '', dateRange: report.dateRange, reportId: '', policies: [{
      policy: { policyType: 'sts', policyString: [], policyDomain: 'x', mxHost: [] },
      summary: { totalSuccessfulSessionCount: 0, totalFailureSessionCount: 1 }, failureDetails,
    }],
  }));
  const base = stub([]);
  report.policies.forEach((pr, p) => pr.failureDetails.forEach((fd, d) => {
    rows.push({ p, d, count: fd.failedSessionCount, bytes: stub([fd]) - base + 1, order: JSON.stringify(fd) });
  }));
  // Smallest counts go first; among equal counts the later (by content order) first, so the
  // outcome does not depend on the order the rows were read in.
  rows.sort((x, y) => x.count - y.count || (x.order < y.order ? 1 : x.order > y.order ? -1 : 0));
  const dropped = new Set<string>();
  let size = Buffer.byteLength(json);
  let i = 0;
  const rebuild = (): TlsReport => ({
    ...report,
    policies: report.policies.map((pr, p) => ({ ...pr, failureDetails: pr.failureDetails.filter((_, d) => !dropped.has(`${p}:${d}`)) })),
  });
  let current = report;
  while (size > limit && i < rows.length) {
    for (let row = rows[i]; size > limit && row !== undefined; row = rows[++i]) {
      dropped.add(`${row.p}:${row.d}`);
      size -= row.bytes;
    }
    current = rebuild();
    json = serializeReport(current);
    size = Buffer.byteLength(json);
  }
  return { report: current, json, trimmedDetails: dropped.size, overLimit: size > limit };
}

/** A window as the collector reads it (`WindowContents` of sending/windows), reduced to what a report needs. */
export interface ReportWindow {
  /** The domain whose TLSRPT record names the targets (RFC 8460 §4.4); each policy keeps its own policy-domain. */
  reportDomain: string;
  windowStart: number;
  windowEnd: number;
  policies: WindowPolicyCounts[];
}

export interface ComposedReport extends BuiltReport {
  /** The §5.1 unique-id (also the tail of report-id). */
  uniqueId: string;
  submitter: string;
  /** `<submitter>!<report-domain>!<begin>!<end>!<unique-id>.json.gz` (RFC 8460 §5.1). */
  fileName: string;
  /** Settings values refused at the boundary and replaced by their defaults. */
  refused: { field: string; error: string }[];
}

/**
 * What a report takes from the settings in force now, checked, with its fresh id: the half of
 * `composeReport` that needs the live settings. The scheduler evaluates it on the main thread
 * and hands it (plain strings and numbers) to the build worker with the window.
 */
export interface ReportHeading {
  reportId: string;
  uniqueId: string;
  orgName: string;
  contactInfo: string;
  maxReportSize: number;
  submitter: string;
}

/** The settings half of `composeReport`: report-id and the checked orgName, contactInfo, maxReportSize, submitter. */
export function reportHeading(
  window: Pick<ReportWindow, 'reportDomain' | 'windowStart' | 'windowEnd'>,
  settings: ReportSettingsSource,
  log: Logger,
  random: () => Buffer = random8,
): ReportHeading & { refused: { field: string; error: string }[] } {
  const { reportId, uniqueId } = newReportId(window.reportDomain, window.windowStart, random);
  const values = checkedReportValues(settings, {
    rcptDomain: window.reportDomain, reportId,
    periodStartIso: isoSeconds(window.windowStart), periodEndIso: isoSeconds(window.windowEnd - 1),
  }, log);
  return {
    reportId, uniqueId, orgName: values.orgName, contactInfo: values.contactInfo, maxReportSize: values.maxReportSize,
    submitter: values.submitter, refused: values.refused,
  };
}

/** The pure half of `composeReport`: the report JSON and its §5.1 file name, from a window and its heading. */
export function finishReport(window: ReportWindow, heading: ReportHeading): BuiltReport & { fileName: string } {
  const built = buildReport({
    identity: { organizationName: heading.orgName, contactInfo: heading.contactInfo, reportId: heading.reportId },
    windowStart: window.windowStart,
    windowEnd: window.windowEnd,
    policies: window.policies,
    maxReportSize: heading.maxReportSize,
  });
  const fileName = reportFileName({
    submitter: heading.submitter, reportDomain: window.reportDomain,
    beginUnix: window.windowStart, endUnix: window.windowEnd - 1, uniqueId: heading.uniqueId, gzip: true,
  });
  return { ...built, fileName };
}

/**
 * Composes the report a report domain gets for a window, from the settings in force now
 * (orgName, contactInfo falling back to fromAddress, maxReportSize, submitter). Used by
 * `tlsrpt outbound preview`; the scheduler runs the same two halves (`reportHeading` here,
 * `finishReport` in its build worker), so the preview is exactly what is sent.
 */
export function composeReport(
  window: ReportWindow,
  settings: ReportSettingsSource,
  log: Logger,
  random: () => Buffer = random8,
): ComposedReport {
  const heading = reportHeading(window, settings, log, random);
  return { ...finishReport(window, heading), uniqueId: heading.uniqueId, submitter: heading.submitter, refused: heading.refused };
}
