/**
 * @module rfc8460/caps — size caps on what a report keeps (issue 10): a stranger's report is
 * stored and shown, so no string, list or extra value may be larger than any real reporter
 * sends. Over a cap the value is cut (or the entries dropped) and a finding says so; the
 * report itself is still accepted (RFC 8460 §4 asks receivers to be lenient).
 */
import type { FailureDetail, Policy, PolicyResult, TlsReport } from './types.js';
import type { FindingSink } from './values.js';

export interface ReportCaps {
  /** Characters kept of any one string (organization-name, report-id, a policy-string line, …); default 1024. */
  maxStringLength: number;
  /** `policies` entries kept; default 2000. */
  maxPolicies: number;
  /** `failure-details` entries kept per policy; default 1000. */
  maxDetailsPerPolicy: number;
  /**
   * `failure-details` entries kept in the whole report; default 5000. What storing, cloning and
   * showing a report costs grows with its detail rows: 2,000 policies x 20 details held the
   * event loop for 0.3-0.8 s per report (bench/abuse); real reporters send a few dozen.
   */
  maxDetails: number;
  /** Entries kept of `policy-string` and of `mx-host`; default 100. */
  maxListEntries: number;
  /** Largest extra (non-RFC) value kept, as JSON characters; default 4096. */
  maxExtraLength: number;
}

export const DEFAULT_CAPS: Readonly<ReportCaps> = Object.freeze({
  maxStringLength: 1024, maxPolicies: 2000, maxDetailsPerPolicy: 1000, maxDetails: 5000, maxListEntries: 100, maxExtraLength: 4096,
});

/** Applies the string, list and extra caps to a parsed report in place, adding a finding for each cut. */
export function capReport(report: TlsReport, sink: FindingSink, caps: ReportCaps): void {
  const cut = (v: string, path: string): string => {
    if (v.length <= caps.maxStringLength) return v;
    sink.add('string-too-long', path, `${v.length} characters; kept the first ${caps.maxStringLength}`);
    return v.slice(0, caps.maxStringLength);
  };
  const cutOptional = (v: string | undefined, path: string) => (v === undefined ? undefined : cut(v, path));
  const list = (v: string[], path: string): string[] => {
    let out = v;
    if (out.length > caps.maxListEntries) {
      sink.add('too-many-entries', path, `${out.length} entries; kept the first ${caps.maxListEntries}`);
      out = out.slice(0, caps.maxListEntries);
    }
    return out.map((s, i) => cut(s, `${path}[${i}]`));
  };
  const extras = (o: { extra?: Record<string, unknown> }, path: string) => {
    if (!o.extra) return;
    for (const k of Object.keys(o.extra)) {
      const size = JSON.stringify(o.extra[k])?.length ?? 0;
      if (size + k.length > caps.maxExtraLength) {
        sink.add('extra-too-large', path ? `${path}.${k}` : k, `${size} characters of JSON; dropped (at most ${caps.maxExtraLength} are kept)`);
        delete o.extra[k];
      }
    }
    if (!Object.keys(o.extra).length) delete o.extra;
  };
  report.organizationName = cut(report.organizationName, 'organization-name');
  report.reportId = cut(report.reportId, 'report-id');
  if (report.contactInfo !== undefined) report.contactInfo = cut(report.contactInfo, 'contact-info');
  extras(report, '');
  report.policies.forEach((p: PolicyResult, i) => {
    const base = `policies[${i}]`;
    const policy: Policy = p.policy;
    policy.policyType = cut(policy.policyType, `${base}.policy.policy-type`);
    policy.policyDomain = cut(policy.policyDomain, `${base}.policy.policy-domain`);
    policy.policyString = list(policy.policyString, `${base}.policy.policy-string`);
    policy.mxHost = list(policy.mxHost, `${base}.policy.mx-host`);
    extras(policy, `${base}.policy`);
    extras(p, base);
    p.failureDetails.forEach((d: FailureDetail, j) => {
      const dbase = `${base}.failure-details[${j}]`;
      d.resultType = cut(d.resultType, `${dbase}.result-type`);
      for (const [key, name] of DETAIL_STRINGS) {
        const v = cutOptional(d[key], `${dbase}.${name}`);
        if (v !== undefined) d[key] = v;
      }
      extras(d, dbase);
    });
  });
}

const DETAIL_STRINGS: [Exclude<keyof FailureDetail, 'resultType' | 'failedSessionCount' | 'extra'>, string][] = [
  ['sendingMtaIp', 'sending-mta-ip'], ['receivingMxHostname', 'receiving-mx-hostname'], ['receivingMxHelo', 'receiving-mx-helo'],
  ['receivingIp', 'receiving-ip'], ['additionalInformation', 'additional-information'], ['failureReasonCode', 'failure-reason-code'],
];
