/** @module rfc8460/policies — lenient reading of `policies[]` (policy, summary, failure-details), RFC 8460 §4.4 */
import { isRegisteredPolicyType, isRegisteredResultType } from './codes.js';
import type { FailureDetail, Policy, PolicyResult } from './types.js';
import { type FindingSink, isIp, MAX_SESSION_COUNT } from './values.js';

type Json = Record<string, unknown>;

/** Sets a key on an extras bag; `__proto__` from JSON.parse is an own key and must stay one. */
export function putExtra(bag: Json, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(bag, key, { value, enumerable: true, writable: true, configurable: true });
  else bag[key] = value;
}

export function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The finding path of `key` in policy `pbase` (e.g. `policies[0]`), inside failure detail `j`
 * when j >= 0. Built only when a finding is recorded: the clean path allocates no strings.
 */
function pathOf(pbase: string, j: number, key: string): string {
  return j < 0 ? `${pbase}.${key}` : `${pbase}.failure-details[${j}].${key}`;
}

function typeName(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

/**
 * A session counter: a non-negative integer; anything else is read as well as it can be and
 * noted. Counts above {@link MAX_SESSION_COUNT} are clamped to it (`count-too-large`): no MTA
 * makes two billion sessions to one policy domain in a day, and a bounded count keeps every
 * later sum exact in 64-bit SQL integers (a 2^53 count overflowed SQLite's sum()).
 */
export function readCount(v: unknown, sink: FindingSink, pbase: string, j: number, key: string, missingCode: string): number {
  if (typeof v === 'number') {
    if (v > MAX_SESSION_COUNT) {
      sink.add('count-too-large', pathOf(pbase, j, key), `${v} is more sessions than any reporter makes in a day; read as ${MAX_SESSION_COUNT}`);
      return MAX_SESSION_COUNT;
    }
    if (Number.isSafeInteger(v) && v >= 0) return v === 0 ? 0 : v; // JSON "-0" reads as 0
    if (Number.isFinite(v) && v > 0) {
      const n = Math.trunc(v);
      sink.add('non-integer-count', pathOf(pbase, j, key), `${v} is not a non-negative integer; read as ${n}`);
      return n;
    }
    sink.add('invalid-count', pathOf(pbase, j, key), `${v} is not a session count; read as 0`);
    return 0;
  }
  if (v === undefined || v === null) {
    sink.add(missingCode, pathOf(pbase, j, key), `${v === null ? 'null' : 'missing'}; read as 0`);
    return 0;
  }
  if (typeof v === 'string' && v.length > 0 && v.length <= 15) {
    let n = 0;
    for (let i = 0; i < v.length; i++) {
      const c = v.charCodeAt(i) - 48;
      if (c < 0 || c > 9) { n = -1; break; }
      n = n * 10 + c;
    }
    if (n > MAX_SESSION_COUNT) {
      sink.add('count-too-large', pathOf(pbase, j, key), `a string "${v}": more sessions than any reporter makes in a day; read as ${MAX_SESSION_COUNT}`);
      return MAX_SESSION_COUNT;
    }
    if (n >= 0) {
      sink.add('count-as-string', pathOf(pbase, j, key), `a string "${v}" instead of an integer`);
      return n;
    }
  }
  sink.add('invalid-count', pathOf(pbase, j, key), `a ${typeName(v)} is not a session count; read as 0`);
  return 0;
}

/** An optional string field: null, "" and other types are dropped and noted (docs/spec/quirks.md). */
function readOptionalString(v: unknown, sink: FindingSink, pbase: string, j: number, key: string): string | undefined {
  if (typeof v === 'string') {
    if (v.length > 0) return v;
    sink.add('empty-field', pathOf(pbase, j, key), 'empty string; treated as absent');
    return undefined;
  }
  if (v === null) {
    sink.add('null-optional-field', pathOf(pbase, j, key), 'null instead of omitted; treated as absent');
    return undefined;
  }
  if (typeof v === 'number' || typeof v === 'boolean') {
    sink.add('wrong-type', pathOf(pbase, j, key), `a ${typeof v} instead of a string; kept as text`);
    return String(v);
  }
  sink.add('wrong-type', pathOf(pbase, j, key), `a ${typeName(v)} instead of a string; dropped`);
  return undefined;
}

function readIp(v: unknown, sink: FindingSink, pbase: string, j: number, key: string): string | undefined {
  const s = readOptionalString(v, sink, pbase, j, key);
  if (s !== undefined && !isIp(s)) sink.add('invalid-ip', pathOf(pbase, j, key), `"${s.length > 64 ? s.slice(0, 64) + '…' : s}" is not an IP address; kept as given`);
  return s;
}

function readFailureDetail(o: Json, sink: FindingSink, pbase: string, j: number): FailureDetail {
  let resultType = '';
  let sawResultType = false;
  let failedSessionCount: unknown;
  let extra: Json | undefined;
  const d = { resultType: '', failedSessionCount: 0 } as FailureDetail;
  for (const k in o) {
    const v = o[k];
    switch (k) {
      case 'result-type':
        sawResultType = true;
        if (typeof v === 'string' && v.length > 0) resultType = v;
        break;
      case 'sending-mta-ip': { const s = readIp(v, sink, pbase, j, 'sending-mta-ip'); if (s !== undefined) d.sendingMtaIp = s; break; }
      case 'receiving-ip': { const s = readIp(v, sink, pbase, j, 'receiving-ip'); if (s !== undefined) d.receivingIp = s; break; }
      case 'receiving-mx-hostname': { const s = readOptionalString(v, sink, pbase, j, 'receiving-mx-hostname'); if (s !== undefined) d.receivingMxHostname = s; break; }
      case 'receiving-mx-helo': { const s = readOptionalString(v, sink, pbase, j, 'receiving-mx-helo'); if (s !== undefined) d.receivingMxHelo = s; break; }
      case 'additional-information': { const s = readOptionalString(v, sink, pbase, j, 'additional-information'); if (s !== undefined) d.additionalInformation = s; break; }
      case 'failure-reason-code': { const s = readOptionalString(v, sink, pbase, j, 'failure-reason-code'); if (s !== undefined) d.failureReasonCode = s; break; }
      case 'failed-session-count': failedSessionCount = v; break;
      default:
        if (extra === undefined) extra = {};
        putExtra(extra, k, v);
        sink.add('extra-field', pathOf(pbase, j, k), 'a key RFC 8460 does not define; kept as extra data');
    }
  }
  if (!sawResultType || resultType === '') {
    sink.add('missing-result-type', pathOf(pbase, j, 'result-type'), 'no result-type; kept as ""');
  } else if (!isRegisteredResultType(resultType)) {
    const lower = resultType.toLowerCase();
    if (isRegisteredResultType(lower)) {
      sink.add('result-type-case', pathOf(pbase, j, 'result-type'), `"${resultType}" read as "${lower}"`);
      resultType = lower;
    } else {
      sink.add('unknown-result-type', pathOf(pbase, j, 'result-type'), `"${resultType}" is not in the RFC 8460 §4.3 registry; kept as given`);
    }
  }
  d.resultType = resultType;
  d.failedSessionCount = readCount(failedSessionCount, sink, pbase, j, 'failed-session-count', 'missing-failed-session-count');
  if (extra !== undefined) d.extra = extra;
  return d;
}

/** A string that holds a JSON array of strings (Microsoft's DANE policy-string), or undefined. */
function decodeJsonStringArray(s: string): string[] | undefined {
  const t = s.trim();
  if (t.length < 2 || t.charCodeAt(0) !== 91 || t.charCodeAt(t.length - 1) !== 93) return undefined;
  // Only a flat array of strings qualifies: a nested bracket outside a string rules it out
  // before JSON.parse sees it, so this inner parse cannot be made deep.
  let inString = false;
  for (let i = 1; i < t.length - 1; i++) {
    const c = t.charCodeAt(i);
    if (inString) { if (c === 92) i++; else if (c === 34) inString = false; }
    else if (c === 34) inString = true;
    else if (c === 91 || c === 123) return undefined;
  }
  let v: unknown;
  try { v = JSON.parse(t); } catch { return undefined; }
  if (!Array.isArray(v)) return undefined;
  for (const e of v) if (typeof e !== 'string') return undefined;
  return v as string[];
}

function readPolicyString(v: unknown, policyType: string, sink: FindingSink, path: string): string[] {
  const optional = policyType === 'no-policy-found'; // RFC 8460 §4.4: there is no policy to show
  if (Array.isArray(v)) {
    if (v.length === 0) {
      if (!optional) sink.add('missing-policy-string', path, 'empty policy-string');
      return [];
    }
    if (v.length === 1 && typeof v[0] === 'string') {
      const decoded = decodeJsonStringArray(v[0]);
      if (decoded !== undefined) {
        sink.add('policy-string-json-encoded', path, `one string holding a JSON array of ${decoded.length} records; decoded`);
        return decoded;
      }
    }
    let out: string[] | undefined;
    for (let i = 0; i < v.length; i++) {
      const e = v[i];
      if (typeof e === 'string') { if (out !== undefined) out.push(e); continue; }
      if (out === undefined) out = v.slice(0, i) as string[];
      if (typeof e === 'number' || typeof e === 'boolean') out.push(String(e));
      sink.add('wrong-type', `${path}[${i}]`, `a ${typeName(e)} in policy-string${typeof e === 'number' || typeof e === 'boolean' ? '; kept as text' : '; dropped'}`);
    }
    return out ?? (v as string[]);
  }
  if (v === undefined || v === null) {
    if (!optional) sink.add('missing-policy-string', path, v === null ? 'policy-string is null' : 'no policy-string');
    return [];
  }
  if (typeof v === 'string') {
    const decoded = decodeJsonStringArray(v);
    if (decoded !== undefined) {
      sink.add('policy-string-json-encoded', path, `a string holding a JSON array of ${decoded.length} records; decoded`);
      return decoded;
    }
    sink.add('policy-string-string', path, 'a string instead of an array; split into lines');
    return v.split(/\r?\n/).filter((line) => line.length > 0);
  }
  sink.add('wrong-type', path, `a ${typeName(v)} instead of an array of strings; dropped`);
  return [];
}

/** Strips the `mx: ` prefix some small MTAs copy from the STS policy line (docs/spec/quirks.md). */
function stripMxPrefix(s: string): string {
  let t = s.trim();
  if (t.length > 3 && (t.charCodeAt(0) | 32) === 109 && (t.charCodeAt(1) | 32) === 120 && t.charCodeAt(2) === 58) t = t.slice(3).trim();
  return t;
}

function readMxHost(v: unknown, sink: FindingSink, path: string): string[] {
  if (v === undefined) return [];
  if (v === null) { sink.add('null-optional-field', path, 'null instead of omitted'); return []; }
  let list: unknown[];
  if (typeof v === 'string') {
    sink.add('mx-host-string', path, 'a string instead of an array (RFC 8460 figure / erratum 6241)');
    list = v.length === 0 ? [] : [v];
  } else if (Array.isArray(v)) {
    list = v;
  } else {
    sink.add('wrong-type', path, `a ${typeName(v)} instead of an array; dropped`);
    return [];
  }
  const out: string[] = [];
  let prefixed = false;
  for (let i = 0; i < list.length; i++) {
    const e = list[i];
    if (typeof e !== 'string') { sink.add('wrong-type', `${path}[${i}]`, `a ${typeName(e)} in mx-host; dropped`); continue; }
    const host = stripMxPrefix(e);
    if (host.length !== e.length) prefixed = prefixed || host.length !== e.trim().length;
    if (host.length > 0) out.push(host);
  }
  if (prefixed) sink.add('mx-host-prefixed', path, 'values prefixed "mx:" (copied from the policy line); prefix removed');
  return out;
}

function readPolicy(o: Json, sink: FindingSink, base: string): Policy {
  let policyType = '';
  let policyStringRaw: unknown;
  let domainRaw: unknown;
  let mxRaw: unknown;
  let extra: Json | undefined;
  for (const k in o) {
    const v = o[k];
    switch (k) {
      case 'policy-type': policyType = typeof v === 'string' ? v : ''; break;
      case 'policy-string': policyStringRaw = v; break;
      case 'policy-domain': domainRaw = v; break;
      case 'mx-host': mxRaw = v; break;
      default:
        if (extra === undefined) extra = {};
        putExtra(extra, k, v);
        sink.add('extra-field', base + '.' + k, 'a key RFC 8460 does not define; kept as extra data');
    }
  }
  if (policyType === '') {
    sink.add('missing-policy-type', base + '.policy-type', 'no policy-type; kept as ""');
  } else if (!isRegisteredPolicyType(policyType)) {
    const lower = policyType.toLowerCase();
    if (isRegisteredPolicyType(lower)) {
      sink.add('policy-type-case', base + '.policy-type', `"${policyType}" read as "${lower}"`);
      policyType = lower;
    } else {
      sink.add('unknown-policy-type', base + '.policy-type', `"${policyType}" is not tlsa, sts or no-policy-found; kept as given`);
    }
  }
  const policy: Policy = {
    policyType,
    policyString: readPolicyString(policyStringRaw, policyType, sink, base + '.policy-string'),
    policyDomain: typeof domainRaw === 'string' ? domainRaw.trim() : '',
    mxHost: readMxHost(mxRaw, sink, base + '.mx-host'),
  };
  if (domainRaw !== undefined && domainRaw !== null && typeof domainRaw !== 'string') {
    sink.add('wrong-type', base + '.policy-domain', `a ${typeName(domainRaw)} instead of a string; dropped`);
  }
  if (extra !== undefined) policy.extra = extra;
  return policy;
}

/** Reads one `policies[i]` element. The caller fills an empty policyDomain afterwards. */
export function readPolicyResult(o: Json, sink: FindingSink, base: string, maxDetails = Infinity): PolicyResult {
  let policyRaw: unknown, summaryRaw: unknown, detailsRaw: unknown;
  let extra: Json | undefined;
  for (const k in o) {
    switch (k) {
      case 'policy': policyRaw = o[k]; break;
      case 'summary': summaryRaw = o[k]; break;
      case 'failure-details': detailsRaw = o[k]; break;
      default:
        if (extra === undefined) extra = {};
        putExtra(extra, k, o[k]);
        sink.add('extra-field', base + '.' + k, 'a key RFC 8460 does not define; kept as extra data');
    }
  }
  let policy: Policy;
  if (isObject(policyRaw)) {
    policy = readPolicy(policyRaw, sink, base + '.policy');
  } else {
    sink.add('missing-policy', base + '.policy', policyRaw === undefined ? 'no policy object' : `a ${typeName(policyRaw)} instead of the policy object`);
    policy = { policyType: '', policyString: [], policyDomain: '', mxHost: [] };
  }
  let totalSuccessfulSessionCount = 0, totalFailureSessionCount = 0;
  if (isObject(summaryRaw)) {
    const s = summaryRaw;
    totalSuccessfulSessionCount = readCount(s['total-successful-session-count'], sink, base, -1, 'summary.total-successful-session-count', 'missing-summary-counter');
    totalFailureSessionCount = readCount(s['total-failure-session-count'], sink, base, -1, 'summary.total-failure-session-count', 'missing-summary-counter');
    for (const k in s) {
      if (k !== 'total-successful-session-count' && k !== 'total-failure-session-count') {
        sink.add('extra-field', base + '.summary.' + k, 'a key RFC 8460 does not define; ignored');
      }
    }
  } else {
    sink.add('missing-summary-counter', base + '.summary', summaryRaw === undefined ? 'no summary; both counters read as 0' : `a ${typeName(summaryRaw)} instead of the summary; counters read as 0`);
  }
  const failureDetails: FailureDetail[] = [];
  let detailSum = 0;
  if (Array.isArray(detailsRaw)) {
    const kept = Math.min(detailsRaw.length, maxDetails);
    if (detailsRaw.length > kept) sink.add('too-many-failure-details', base + '.failure-details', `${detailsRaw.length} failure details; kept the first ${kept}`);
    for (let j = 0; j < kept; j++) {
      const e = detailsRaw[j];
      if (!isObject(e)) { sink.add('wrong-type', `${base}.failure-details[${j}]`, `a ${typeName(e)} instead of a failure detail; dropped`); continue; }
      const d = readFailureDetail(e, sink, base, j);
      detailSum += d.failedSessionCount;
      failureDetails.push(d);
    }
  } else if (detailsRaw === undefined || detailsRaw === null) {
    sink.add('missing-failure-details', base + '.failure-details', detailsRaw === null ? 'null; read as []' : 'absent; read as []');
  } else {
    sink.add('wrong-type', base + '.failure-details', `a ${typeName(detailsRaw)} instead of an array; dropped`);
  }
  if (detailSum !== totalFailureSessionCount && (failureDetails.length > 0 || totalFailureSessionCount > 0)) {
    // RFC 8460 §4.4: failure types are not exclusive, so this is a note, not an error.
    sink.add('detail-sum-mismatch', base + '.failure-details', `failed-session-counts add up to ${detailSum}, summary says ${totalFailureSessionCount}`);
  }
  const result: PolicyResult = { policy, summary: { totalSuccessfulSessionCount, totalFailureSessionCount }, failureDetails };
  if (extra !== undefined) result.extra = extra;
  return result;
}
