/** @module test/rfc8460/arbitraries — fast-check generators of valid TLS reports (RFC 8460 §4) */
import fc from 'fast-check';
import { RESULT_TYPES, type FailureDetail, type PolicyResult, type TlsReport } from '../../src/rfc8460/index.js';

const DAY = 86_400;
const iso = (sec: number) => new Date(sec * 1000).toISOString().slice(0, 19) + 'Z';

/** Non-empty text, unicode included; what senders put in free-text fields. */
const text = fc.oneof(fc.string({ minLength: 1, maxLength: 30 }), fc.string({ minLength: 1, maxLength: 12, unit: 'grapheme' }));

const ip = fc.oneof(fc.ipV4(), fc.ipV6());

const stsLines = fc.tuple(fc.constantFrom('enforce', 'testing', 'none'), fc.array(fc.domain(), { minLength: 1, maxLength: 3 }), fc.integer({ min: 1, max: 31_557_600 }))
  .map(([mode, mx, maxAge]) => ['version: STSv1', `mode: ${mode}`, ...mx.map((m) => `mx: *.${m}`), `max_age: ${maxAge}`]);
const tlsaLines = fc.array(fc.tuple(fc.constantFrom(2, 3), fc.constantFrom(0, 1), fc.constantFrom(0, 1, 2), fc.uint8Array({ minLength: 32, maxLength: 32 })), { minLength: 1, maxLength: 3 })
  .map((rrs) => rrs.map(([u, s, m, h]) => `${u} ${s} ${m} ${Buffer.from(h).toString('hex').toUpperCase()}`));

export const failureDetail: fc.Arbitrary<FailureDetail> = fc.record({
  resultType: fc.constantFrom(...RESULT_TYPES),
  sendingMtaIp: ip,
  receivingMxHostname: fc.domain(),
  receivingMxHelo: fc.domain(),
  receivingIp: ip,
  failedSessionCount: fc.nat({ max: 1_000_000 }),
  additionalInformation: fc.webUrl(),
  failureReasonCode: text,
}, { requiredKeys: ['resultType', 'failedSessionCount'] }).map((d) => ({ ...d })); // fc.record with optional keys makes null-prototype objects

export const policyResult: fc.Arbitrary<PolicyResult> = fc.record({
  kind: fc.constantFrom('sts', 'tlsa', 'no-policy-found'),
  sts: stsLines,
  tlsa: tlsaLines,
  domain: fc.domain(),
  mx: fc.array(fc.oneof(fc.domain(), fc.domain().map((d) => `*.${d}`)), { maxLength: 3 }),
  ok: fc.nat({ max: 10_000_000 }),
  failed: fc.nat({ max: 1_000_000 }),
  details: fc.array(failureDetail, { maxLength: 5 }),
}).map(({ kind, sts, tlsa, domain, mx, ok, failed, details }) => ({
  policy: {
    policyType: kind,
    policyString: kind === 'sts' ? sts : kind === 'tlsa' ? tlsa : [],
    policyDomain: domain,
    mxHost: kind === 'sts' ? mx : [],
  },
  summary: { totalSuccessfulSessionCount: ok, totalFailureSessionCount: failed },
  failureDetails: details,
}));

/** A valid report: daily or arbitrary window, 0–5 policies, contact-info present or not. */
export const tlsReport: fc.Arbitrary<TlsReport> = fc.record({
  organizationName: text,
  day: fc.integer({ min: 0, max: 2_900_000 }),
  span: fc.oneof(fc.constant(DAY - 1), fc.integer({ min: 0, max: 8 * DAY })),
  contactInfo: fc.option(fc.oneof(fc.emailAddress(), fc.webUrl()), { nil: undefined }),
  reportId: fc.oneof(fc.uuid(), text),
  policies: fc.array(policyResult, { maxLength: 5 }),
}).map(({ organizationName, day, span, contactInfo, reportId, policies }) => {
  const report: TlsReport = {
    organizationName,
    dateRange: { startDatetime: iso(day * DAY), endDatetime: iso(day * DAY + span) },
    reportId,
    policies,
  };
  if (contactInfo !== undefined) report.contactInfo = contactInfo;
  return report;
});

const RFC_KEYS = new Set([
  'organization-name', 'date-range', 'contact-info', 'report-id', 'policies', 'policy', 'summary', 'failure-details',
  'policy-type', 'policy-string', 'policy-domain', 'mx-host', 'result-type', 'sending-mta-ip', 'receiving-mx-hostname',
  'receiving-mx-helo', 'receiving-ip', 'failed-session-count', 'additional-information', 'failure-reason-code',
]);
/** Non-RFC keys with JSON values (made by JSON.parse, as the parser would see them). */
const extras = fc.dictionary(fc.string({ minLength: 1, maxLength: 12 }).filter((k) => !RFC_KEYS.has(k)), fc.json({ maxDepth: 2 }).map((j) => JSON.parse(j) as unknown), { minKeys: 1, maxKeys: 3 })
  .map((d) => ({ ...d }));
const unknownResultType = fc.string({ minLength: 1, maxLength: 20 }).filter((t) => !RESULT_TYPES.includes(t.toLowerCase()));

/** A valid report plus what lenient reading keeps beyond the RFC: extra keys, unknown result types. */
export const tlsReportWithExtras: fc.Arbitrary<TlsReport> = fc.tuple(tlsReport, extras, extras, extras, extras, unknownResultType, fc.boolean())
  .map(([report, top, pol, res, det, unknown, addUnknown]) => {
    report.extra = top;
    for (const p of report.policies) {
      p.policy.extra = pol;
      p.extra = res;
      if (p.failureDetails.length > 0) p.failureDetails[0].extra = det;
      if (addUnknown) p.failureDetails.push({ resultType: unknown, failedSessionCount: 1 });
    }
    return report;
  });
