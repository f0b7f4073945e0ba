/**
 * @module test/receiving/support/reports — report JSON for receiving tests: realistic reports
 * from a given submitter about a given policy domain, and the real-world fixtures with their
 * hand-checkable session totals.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';

export const FIXTURES = path.resolve('test/fixtures/reports');

export interface MakeReportOptions {
  submitter: string;
  policyDomain: string;
  reportId?: string;
  day?: string; // YYYY-MM-DD
  successful?: number;
  failed?: number;
  policyType?: 'sts' | 'tlsa' | 'no-policy-found';
  mxHost?: string[];
  contactInfo?: string;
}

/** One RFC 8460 report (JSON text) with one policy and, when `failed` > 0, two failure details. */
export function makeReport(o: MakeReportOptions): string {
  const day = o.day ?? '2026-11-20';
  const failed = o.failed ?? 3;
  const policyType = o.policyType ?? 'sts';
  const mx = o.mxHost ?? [`mx1.${o.policyDomain}`, `mx2.${o.policyDomain}`];
  return JSON.stringify({
    'organization-name': `${o.submitter} Inc.`,
    'date-range': { 'start-datetime': `${day}T00:00:00Z`, 'end-datetime': `${day}T23:59:59Z` },
    'contact-info': o.contactInfo ?? `smtp-tls-reporting@${o.submitter}`,
    'report-id': o.reportId ?? `${day}T00:00:00Z_${o.policyDomain}_${randomUUID()}`,
    policies: [{
      policy: policyType === 'sts'
        ? { 'policy-type': 'sts', 'policy-string': ['version: STSv1', 'mode: enforce', ...mx.map((m) => `mx: ${m}`), 'max_age: 86400'], 'policy-domain': o.policyDomain, 'mx-host': mx }
        : policyType === 'tlsa'
          ? { 'policy-type': 'tlsa', 'policy-string': ['3 1 1 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCD'], 'policy-domain': mx[0], 'mx-host': [mx[0]] }
          : { 'policy-type': 'no-policy-found', 'policy-domain': o.policyDomain },
      summary: { 'total-successful-session-count': o.successful ?? 100, 'total-failure-session-count': failed },
      ...(failed > 0 ? {
        'failure-details': [
          { 'result-type': 'certificate-expired', 'sending-mta-ip': '192.0.2.10', 'receiving-mx-hostname': mx[0], 'receiving-ip': '198.51.100.25', 'failed-session-count': failed - 1 },
          { 'result-type': 'starttls-not-supported', 'sending-mta-ip': '192.0.2.11', 'receiving-mx-hostname': mx[mx.length - 1], 'receiving-ip': '198.51.100.26', 'failed-session-count': 1 },
        ],
      } : {}),
    }],
  }, null, 2);
}

/** Every report fixture (not SOURCES.md), sorted. */
export function fixtureFiles(): string[] {
  return readdirSync(FIXTURES).filter((f) => f.endsWith('.json') || f.endsWith('.eml')).sort().map((f) => path.join(FIXTURES, f));
}

export function readFixture(name: string): Buffer {
  return readFileSync(path.join(FIXTURES, name));
}
