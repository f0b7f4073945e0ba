/** @module rfc8460/serialize — RFC-exact report JSON: RFC key names and order, no nulls, registered result types only */
import { isRegisteredResultType } from './codes.js';
import type { FailureDetail, PolicyResult, TlsReport } from './types.js';

export interface SerializeOptions {
  /**
   * Lossless mode for storing a normalised copy: also write the non-RFC `extra` keys (after the
   * RFC keys) and keep failure details of unknown result types. Default false: RFC-exact output.
   */
  includeExtra?: boolean;
}

function copyExtra(target: Record<string, unknown>, extra: Record<string, unknown> | undefined, opts?: SerializeOptions): void {
  if (!opts?.includeExtra || extra === undefined) return;
  for (const k of Object.keys(extra)) {
    if (Object.hasOwn(target, k)) continue; // an extra never overrides an RFC key
    // defineProperty: a `__proto__` key stays an own key (and is written), not the prototype.
    Object.defineProperty(target, k, { value: extra[k], enumerable: true, writable: true, configurable: true });
  }
}

function count(n: number): number {
  // RFC 8460 §4.4: counts are integers; never write a fraction, negative or NaN.
  return Number.isFinite(n) && n > 0 ? Math.floor(n) : 0;
}

function detailJson(d: FailureDetail, opts?: SerializeOptions): Record<string, unknown> {
  // Key order of the RFC 8460 §4.4 schema; absent optional fields are omitted, never null.
  const o: Record<string, unknown> = { 'result-type': d.resultType };
  if (d.sendingMtaIp) o['sending-mta-ip'] = d.sendingMtaIp;
  if (d.receivingMxHostname) o['receiving-mx-hostname'] = d.receivingMxHostname;
  if (d.receivingMxHelo) o['receiving-mx-helo'] = d.receivingMxHelo;
  if (d.receivingIp) o['receiving-ip'] = d.receivingIp;
  o['failed-session-count'] = count(d.failedSessionCount);
  if (d.additionalInformation) o['additional-information'] = d.additionalInformation;
  if (d.failureReasonCode) o['failure-reason-code'] = d.failureReasonCode;
  copyExtra(o, d.extra, opts);
  return o;
}

function policyResultJson(p: PolicyResult, opts?: SerializeOptions): Record<string, unknown> {
  const policy: Record<string, unknown> = {
    'policy-type': p.policy.policyType,
    'policy-string': [...p.policy.policyString],
    'policy-domain': p.policy.policyDomain ?? '',
    // Erratum 6241 / every large sender: mx-host is an array, even though the RFC figure shows a string.
    'mx-host': [...p.policy.mxHost],
  };
  copyExtra(policy, p.policy.extra, opts);
  const o: Record<string, unknown> = {
    policy,
    summary: {
      'total-successful-session-count': count(p.summary.totalSuccessfulSessionCount),
      'total-failure-session-count': count(p.summary.totalFailureSessionCount),
    },
    // RFC 8460 §4.3: result types come from the IANA registry. A detail of a type we cannot
    // name (kept from a lenient read) would make the receiver's parser guess; it is left out.
    // The summary totals are unaffected, so no session goes uncounted.
    'failure-details': (opts?.includeExtra ? p.failureDetails : p.failureDetails.filter((d) => isRegisteredResultType(d.resultType))).map((d) => detailJson(d, opts)),
  };
  copyExtra(o, p.extra, opts);
  return o;
}

/**
 * The RFC 8460 §4.4 JSON object for a report, keys in the RFC's order. Unknown result types
 * are left out unless `includeExtra` (see above); unknown policy types are written as given so
 * their counts survive.
 * @example JSON.stringify(toRfcJson(report))
 */
export function toRfcJson(report: TlsReport, opts?: SerializeOptions): object {
  const o: Record<string, unknown> = {
    'organization-name': report.organizationName,
    'date-range': {
      'start-datetime': report.dateRange.startDatetime,
      'end-datetime': report.dateRange.endDatetime,
    },
  };
  if (report.contactInfo) o['contact-info'] = report.contactInfo;
  o['report-id'] = report.reportId;
  o['policies'] = report.policies.map((p) => policyResultJson(p, opts));
  copyExtra(o, report.extra, opts);
  return o;
}

/**
 * Serialises a report as RFC-exact JSON (compact, stable key order, no nulls, mx-host arrays,
 * policy-domain always present, registered result types only).
 * @example gzipSync(serializeReport(report))
 */
export function serializeReport(report: TlsReport, opts?: SerializeOptions): string {
  return JSON.stringify(toRfcJson(report, opts));
}
