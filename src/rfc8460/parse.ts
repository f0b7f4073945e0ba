/** @module rfc8460/parse — lenient TLS report parser: bytes or text in, normalised report plus findings out */
import { isUtf8 } from 'node:buffer';
import { TlsrptError } from '../common/errors.js';
import { isObject, putExtra, readPolicyResult } from './policies.js';
import { capReport, DEFAULT_CAPS, type ReportCaps } from './caps.js';
import { duplicateKeyPaths } from './duplicate-keys.js';
import type { Finding, PolicyResult, TlsReport } from './types.js';
import { FindingSink, looksLikeDomain, readDatetime, type DatetimeValue } from './values.js';
import { isoFromEpochMs } from '../common/time.js';

/** Why an input is not a TLS report. Deviations inside a report are findings, never errors. */
export type ReportErrorCode = 'not-a-tls-report' | 'invalid-json' | 'too-deep' | 'invalid-utf8' | 'too-many-entries';

/** Thrown by {@link parseReport} for input that is not a TLS report at all. */
export class ReportError extends TlsrptError<ReportErrorCode> {}

export interface ParseOptions {
  /** Deepest JSON nesting accepted (objects + arrays); default 64. A report needs 5. */
  maxDepth?: number;
  /**
   * A policy domain from outside the JSON (the e-mail's `TLS-Report-Domain` header), used only
   * to fill a policy that has no `policy-domain` when the report itself gives no better source.
   */
  policyDomainHint?: string;
  /** Most `policies` entries accepted; default 10,000 (real reports carry a handful). */
  maxPolicies?: number;
  /** Most `failure-details` entries accepted over all policies; default 100,000. */
  maxFailureDetails?: number;
  /** What is kept of an accepted report (strings, policies, details per policy, lists, extras); see caps.ts. */
  caps?: Partial<ReportCaps>;
}

export interface ParsedReport {
  report: TlsReport;
  findings: Finding[];
}

const DAY_MS = 86_400_000;

/**
 * True when the JSON text nests arrays/objects deeper than `maxDepth`. One linear pass over
 * the characters (string bodies skipped, escapes honoured) that stops at the first level too
 * deep, so JSON.parse never sees a 10,000-deep document. Runs on UTF-8 bytes or on text:
 * every character it looks for is ASCII, and UTF-8 never puts ASCII bytes inside a multi-byte
 * sequence. A plain indexed loop measured faster than indexOf jumps or lookup tables here.
 */
export function exceedsDepth(json: string | Uint8Array, maxDepth: number): boolean {
  if (typeof json === 'string') return !fewOpeners(json, '{', '[', maxDepth) && exceedsDepthText(json, maxDepth);
  const buf = asBuffer(json);
  return !fewOpeners(buf, 123, 91, maxDepth) && exceedsDepthBytes(buf, maxDepth);
}

/**
 * True when the JSON holds at most `maxDepth` `{` and `[` in all: then no nesting can exceed
 * it and the character scan is skipped. Counted with native indexOf jumps that stop at
 * maxDepth + 1, so the typical report (a handful of policies and details) costs a few dozen calls.
 */
function fewOpeners<T extends string | number>(hay: { indexOf(v: T, from?: number): number }, brace: T, bracket: T, maxDepth: number): boolean {
  let count = 0;
  for (let i = hay.indexOf(brace); i >= 0; i = hay.indexOf(brace, i + 1)) if (++count > maxDepth) return false;
  for (let i = hay.indexOf(bracket); i >= 0; i = hay.indexOf(bracket, i + 1)) if (++count > maxDepth) return false;
  return true;
}

function exceedsDepthBytes(b: Uint8Array, maxDepth: number): boolean {
  let depth = 0;
  const n = b.length;
  for (let i = 0; i < n; i++) {
    let c = b[i] ?? 0; // i < n
    if (c === 34) {
      for (i++; i < n; i++) {
        c = b[i] ?? 0;
        if (c === 34) break;
        if (c === 92) i++;
      }
    } else if (c < 91) {
      continue; // whitespace, digits, `:` `,` — nothing below `[` matters
    } else if (c === 123 || c === 91) {
      if (++depth > maxDepth) return true;
    } else if (c === 125 || c === 93) {
      depth--;
    }
  }
  return false;
}

function exceedsDepthText(t: string, maxDepth: number): boolean {
  let depth = 0;
  const n = t.length;
  for (let i = 0; i < n; i++) {
    let c = t.charCodeAt(i);
    if (c === 34) {
      for (i++; i < n; i++) {
        c = t.charCodeAt(i);
        if (c === 34) break;
        if (c === 92) i++;
      }
    } else if (c < 91) {
      continue;
    } else if (c === 123 || c === 91) {
      if (++depth > maxDepth) return true;
    } else if (c === 125 || c === 93) {
      depth--;
    }
  }
  return false;
}

/** UTF-8 bytes (BOM allowed) or text → text; invalid UTF-8 is a ReportError, not U+FFFD. */
export function decodeReportText(input: string | Uint8Array): string {
  if (typeof input === 'string') return input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
  const buf = asBuffer(input);
  const start = buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf ? 3 : 0;
  if (!isUtf8(buf)) throw new ReportError('invalid-utf8', 'the report is not valid UTF-8 (RFC 8460 §4: I-JSON)');
  return buf.toString('utf8', start);
}

/** A Buffer over the same memory (no copy): gunzipSync already returns one. */
function asBuffer(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

function readDate(v: unknown, sink: FindingSink, path: string): DatetimeValue {
  if (typeof v === 'string') {
    const d = readDatetime(v);
    if (d.deviation !== undefined) {
      const why = {
        'datetime-without-zone': 'no time zone; read as UTC',
        'datetime-not-utc': 'not in UTC; converted',
        'datetime-format': 'not RFC 3339 (space separator); read anyway',
        'invalid-datetime': 'not an RFC 3339 date-time; kept as given',
      }[d.deviation];
      sink.add(d.deviation, path, `"${v.length > 40 ? v.slice(0, 40) + '…' : v}": ${why}`);
    }
    return d;
  }
  if (typeof v === 'number') {
    const ms = Math.floor(v) * 1000;
    const iso = isoFromEpochMs(ms);
    if (iso !== undefined) {
      sink.add('datetime-not-string', path, `a number ${v}; read as epoch seconds`);
      return { iso, ms };
    }
  }
  sink.add('missing-date-range', path, v === undefined ? 'missing' : `a ${v === null ? 'null' : typeof v} instead of a date-time`);
  return { iso: '', ms: NaN };
}

function checkWindow(start: DatetimeValue, end: DatetimeValue, sink: FindingSink): void {
  if (Number.isNaN(start.ms) || Number.isNaN(end.ms)) return;
  const span = end.ms - start.ms;
  // RFC 8460 §4.1: one full UTC day, 00:00:00Z to 23:59:59Z.
  if (start.ms % DAY_MS === 0 && span === DAY_MS - 1000) return;
  let why: string;
  if (span < 0) why = 'the window ends before it starts';
  else if (start.ms % DAY_MS === 0 && span === DAY_MS) why = 'ends at the next 00:00:00Z instead of 23:59:59Z';
  else why = `covers ${start.iso} to ${end.iso}, not one UTC day`;
  sink.add('window-not-utc-day', 'date-range', why);
}

function readString(v: unknown, sink: FindingSink, key: string): string {
  if (typeof v === 'string') {
    if (v.length === 0) sink.add('empty-field', key, 'empty string');
    return v;
  }
  if (typeof v === 'number') {
    sink.add('wrong-type', key, 'a number instead of a string; kept as text');
    return String(v);
  }
  sink.add('missing-' + key, key, v === undefined ? 'missing; read as ""' : `a ${v === null ? 'null' : typeof v} instead of a string; read as ""`);
  return '';
}

/** The tail of Google (`…_example.com`) and Microsoft (`…+example.com`) report-ids. */
function domainFromReportId(reportId: string): string {
  const cut = Math.max(reportId.lastIndexOf('_'), reportId.lastIndexOf('+'));
  const tail = cut >= 0 ? reportId.slice(cut + 1) : '';
  return looksLikeDomain(tail) ? tail.toLowerCase() : '';
}

/**
 * Fills missing `policy-domain`s (Postfix + sys4 reporter omits it on no-policy-found).
 * Sources, most trusted first: another policy of the same report (a report covers one policy
 * domain, RFC 8460 §4), the caller's hint (TLS-Report-Domain header, §5.3), the MX host of a
 * DANE policy (whose policy domain IS the MX host, §3), the report-id tail. Never contact-info:
 * that names the reporter, not the policy domain.
 */
function fillPolicyDomains(policies: PolicyResult[], reportId: string, hint: string | undefined, sink: FindingSink): void {
  let fromOthers = '';
  for (const p of policies) if (p.policy.policyDomain !== '') { fromOthers = p.policy.policyDomain; break; }
  for (const [i, { policy }] of policies.entries()) {
    if (policy.policyDomain !== '') continue;
    let domain = fromOthers, source = 'another policy of this report';
    if (domain === '' && hint) { domain = hint; source = 'the TLS-Report-Domain header'; }
    if (domain === '' && policy.policyType === 'tlsa') {
      const mx = policy.mxHost.find((h) => !h.startsWith('*'));
      if (mx) { domain = mx; source = 'the DANE policy\'s mx-host'; }
    }
    if (domain === '') { domain = domainFromReportId(reportId); source = 'the report-id'; }
    policy.policyDomain = domain;
    sink.add('missing-policy-domain', `policies[${i}].policy.policy-domain`,
      domain === '' ? 'missing and no source to fill it from; left ""' : `missing; filled with "${domain}" from ${source}`);
  }
}

/**
 * Normalising fills every missing field, so a few input bytes (`{},`) become a full policy.
 * Bounding the entry counts keeps memory in proportion however the input is shaped.
 */
function checkEntryCounts(policies: unknown[], options: ParseOptions | undefined): void {
  const maxPolicies = options?.maxPolicies ?? 10_000;
  const maxDetails = options?.maxFailureDetails ?? 100_000;
  if (policies.length > maxPolicies) {
    throw new ReportError('too-many-entries', `${policies.length} policies; at most ${maxPolicies} are accepted`);
  }
  let details = 0;
  for (const p of policies) {
    const d = isObject(p) ? p['failure-details'] : undefined;
    if (Array.isArray(d) && (details += d.length) > maxDetails) {
      throw new ReportError('too-many-entries', `more than ${maxDetails} failure details; that many are not accepted`);
    }
  }
}

/**
 * Parses a TLS report leniently (RFC 8460 §4 plus every deviation in docs/spec/quirks.md).
 *
 * Rejected (ReportError) only: bytes that are not UTF-8 (`invalid-utf8`), nesting deeper than
 * `maxDepth` (`too-deep`), more entries than `maxPolicies` / `maxFailureDetails`
 * (`too-many-entries`), text that is not JSON (`invalid-json`), and JSON that is not a TLS
 * report (`not-a-tls-report`): a report is a JSON object with a `policies` array and at least
 * one of `date-range` (an object) or `report-id` (a string). Everything else parses, with a
 * finding per deviation.
 *
 * @example
 * const { report, findings } = parseReport(gunzipSync(bytes));
 * report.policies[0].summary.totalFailureSessionCount;
 */
export function parseReport(input: string | Uint8Array, options?: ParseOptions): ParsedReport {
  const requested = options?.maxDepth;
  const maxDepth = requested !== undefined && Number.isInteger(requested) && requested > 0 ? requested : 64;
  // Depth first, on the raw bytes: a hostile document is refused before it is even decoded.
  if (exceedsDepth(input, maxDepth)) throw new ReportError('too-deep', `JSON nesting deeper than ${maxDepth} levels`);
  const text = decodeReportText(input);
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch (e) {
    throw new ReportError('invalid-json', `not JSON: ${(e as Error).message}`);
  }
  if (!isObject(root)) throw new ReportError('not-a-tls-report', `JSON ${Array.isArray(root) ? 'array' : typeof root === 'object' ? 'null' : typeof root}, not a TLS report object`);
  const policiesRaw = root['policies'];
  const dateRangeRaw = root['date-range'];
  const reportIdRaw = root['report-id'];
  if (!Array.isArray(policiesRaw)) throw new ReportError('not-a-tls-report', 'JSON object without a "policies" array: not a TLS report (RFC 8460 §4.4)');
  if (!isObject(dateRangeRaw) && typeof reportIdRaw !== 'string') {
    throw new ReportError('not-a-tls-report', 'JSON object with neither "date-range" nor "report-id": not a TLS report (RFC 8460 §4.4)');
  }
  checkEntryCounts(policiesRaw, options);

  const sink = new FindingSink();
  for (const path of duplicateKeyPaths(text, root)) sink.add('duplicate-key', path, 'this member name is given more than once in its object (RFC 8460 §4: I-JSON forbids it); the last value was read');
  let extra: Record<string, unknown> | undefined;
  let contactRaw: unknown, sawContact = false, orgRaw: unknown;
  for (const k in root) {
    switch (k) {
      case 'organization-name': orgRaw = root[k]; break;
      case 'contact-info': contactRaw = root[k]; sawContact = true; break;
      case 'policies': case 'date-range': case 'report-id': break;
      default:
        if (extra === undefined) extra = {};
        putExtra(extra, k, root[k]);
        sink.add('extra-field', k, 'a key RFC 8460 does not define; kept as extra data');
    }
  }
  const organizationName = readString(orgRaw, sink, 'organization-name');
  let start: DatetimeValue, end: DatetimeValue;
  if (isObject(dateRangeRaw)) {
    start = readDate(dateRangeRaw['start-datetime'], sink, 'date-range.start-datetime');
    end = readDate(dateRangeRaw['end-datetime'], sink, 'date-range.end-datetime');
    for (const k in dateRangeRaw) {
      if (k !== 'start-datetime' && k !== 'end-datetime') sink.add('extra-field', 'date-range.' + k, 'a key RFC 8460 does not define; ignored');
    }
    checkWindow(start, end, sink);
  } else {
    sink.add('missing-date-range', 'date-range', 'no date-range object');
    start = end = { iso: '', ms: NaN };
  }
  const reportId = readString(reportIdRaw, sink, 'report-id');

  const report: TlsReport = {
    organizationName,
    dateRange: { startDatetime: start.iso, endDatetime: end.iso },
    reportId,
    policies: [],
  };
  if (typeof contactRaw === 'string' && contactRaw.length > 0) report.contactInfo = contactRaw;
  else if (contactRaw === null) sink.add('null-contact-info', 'contact-info', 'null instead of an address or URI');
  else if (!sawContact) sink.add('missing-contact-info', 'contact-info', 'missing (RFC 8460 §4.4 requires it)');
  else if (contactRaw === '') sink.add('empty-field', 'contact-info', 'empty string');
  else sink.add('wrong-type', 'contact-info', `a ${Array.isArray(contactRaw) ? 'array' : typeof contactRaw} instead of a string; dropped`);

  const caps: ReportCaps = { ...DEFAULT_CAPS, ...options?.caps };
  if (policiesRaw.length === 0) sink.add('empty-policies', 'policies', 'no policies: the report says nothing');
  const policyCount = Math.min(policiesRaw.length, caps.maxPolicies);
  if (policiesRaw.length > policyCount) sink.add('too-many-policies', 'policies', `${policiesRaw.length} policies; kept the first ${policyCount}`);
  let detailsLeft = caps.maxDetails;
  for (let i = 0; i < policyCount; i++) {
    const p = policiesRaw[i];
    if (!isObject(p)) { sink.add('wrong-type', `policies[${i}]`, 'not an object; dropped'); continue; }
    const policy = readPolicyResult(p, sink, `policies[${i}]`, Math.min(caps.maxDetailsPerPolicy, detailsLeft));
    detailsLeft -= policy.failureDetails.length;
    report.policies.push(policy);
  }
  fillPolicyDomains(report.policies, reportId, options?.policyDomainHint, sink);
  if (extra !== undefined) report.extra = extra;
  capReport(report, sink, caps);
  return { report, findings: sink.done() };
}
