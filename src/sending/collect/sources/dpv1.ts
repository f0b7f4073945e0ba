/**
 * @module sending/collect/sources/dpv1 — decodes one libtlsrpt "dpv 1" datagram (Postfix 3.10+) into a
 * TlsSessionOutcome, or says precisely why it cannot. Pure and on the hot path: one
 * JSON.parse, hand-written checks, no schema library.
 *
 * Wire format: docs/spec/libtlsrpt-datagram.md. Decisions where the spec leaves room:
 * - `dpv` other than "1" (or absent) is reported as `unsupportedDpv` and the datagram is still
 *   read as v1, as the spec asks; the caller counts it under 'unsupported-dpv' either way, and
 *   when v1 reading fails too the datagram is rejected with that failure's reason.
 * - 'oversize': longer than the receive limit (256 KiB) — never parsed. 'truncated': JSON that
 *   starts like an object but stops early (a sender that cut its buffer) — told apart from
 *   'not-json' so an operator sees which one their MTA produces.
 * - Invalid UTF-8 is rejected ('invalid-utf8') rather than repaired: a repaired string would put
 *   U+FFFD into a report the receiver can no longer match against its own logs.
 * - `h` (receiving-mx-helo) arrives as Postfix's CRLF-joined multi-line EHLO reply; it is passed
 *   on as is and the aggregator keeps only the greeting name (sending/collect/greeting).
 * - Empty strings in optional fields count as absent (libtlsrpt writes an unknown value as "";
 *   RFC 8460 §4.4 makes these fields optional and gives "" no meaning, and a report carrying
 *   `"receiving-ip": ""` fails receivers' IP parsers); `t` (number of details the MTA added) is
 *   informational and not checked.
 */
import { isUtf8 } from 'node:buffer';
import { domainToASCII } from 'node:url';
import { policyTypeFromCode, resultTypeFromCode } from '../../../rfc8460/codes.js';
import type { FailureDetail, Policy, PolicyType } from '../../../rfc8460/types.js';
import type { AppliedPolicy, TlsSessionOutcome } from '../event.js';

/** Why a datagram was not counted. Stable strings: they are metric labels. */
export type Dpv1RejectReason =
  | 'invalid-utf8'
  | 'not-json'
  | 'truncated'
  | 'not-an-object'
  | 'unsupported-dpv'
  | 'missing-domain'
  | 'bad-policies'
  | 'unknown-policy-type'
  | 'unknown-result-type'
  | 'oversize';

export const DPV1_REJECT_REASONS: readonly Dpv1RejectReason[] = [
  'invalid-utf8', 'not-json', 'truncated', 'not-an-object', 'unsupported-dpv', 'missing-domain',
  'bad-policies', 'unknown-policy-type', 'unknown-result-type', 'oversize',
];

/** Largest datagram accepted: libtlsrpt sends up to ~212 KB (its SO_SNDBUF). */
export const DPV1_MAX_BYTES = 256 * 1024;

export type Dpv1Result =
  | { ok: true; outcome: TlsSessionOutcome; unsupportedDpv?: string }
  | { ok: false; reason: Dpv1RejectReason; detail: string; unsupportedDpv?: string };

// libtlsrpt's numeric codes come from the one table in rfc8460/codes (tlsrpt.h); 901
// TLSRPT_UNFINISHED_POLICY is library-internal and maps to nothing: counted as invalid.

class Reject {
  constructor(readonly reason: Dpv1RejectReason, readonly detail: string) {}
}

const DOMAIN = /^[a-z0-9_-]+(?:\.[a-z0-9_-]+)*$/;

/** Lower-case, strip ONE trailing dot, A-label form; undefined when it is no domain name. */
export function normalizeDatagramDomain(raw: string): string | undefined {
  let d = raw.toLowerCase();
  if (d.endsWith('.')) d = d.slice(0, -1);
  if (!DOMAIN.test(d)) {
    // An SMTPUTF8 MTA may write a U-label domain: reports use the A-label form.
    if (!/[^\x00-\x7f]/.test(d)) return undefined;
    d = domainToASCII(d);
    if (!d || !DOMAIN.test(d)) return undefined;
  }
  return d.length <= 253 ? d : undefined;
}

// Paths in rejection details are built only when rejecting: this is the hot path.
type Where = () => string;

function optionalString(o: Record<string, unknown>, key: string, where: Where): string | undefined {
  const v = o[key];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw new Reject('bad-policies', `${where()}.${key} is ${typeof v}, expected a string`);
  return v;
}

function stringArray(o: Record<string, unknown>, key: string, where: Where): string[] {
  const v = o[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new Reject('bad-policies', `${where()}.${key} is not an array`);
  for (let i = 0; i < v.length; i++) {
    if (typeof v[i] !== 'string') throw new Reject('bad-policies', `${where()}.${key}[${i}] is not a string`);
  }
  return v as string[];
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function failureDetail(raw: unknown, where: Where): Omit<FailureDetail, 'failedSessionCount'> {
  if (!isObject(raw)) throw new Reject('bad-policies', `${where()} is not an object`);
  const c = raw.c;
  if (typeof c !== 'number') throw new Reject('unknown-result-type', `${where()}.c is ${JSON.stringify(c) ?? 'absent'}, expected a libtlsrpt failure code`);
  const resultType = resultTypeFromCode(c);
  if (resultType === undefined) throw new Reject('unknown-result-type', `${where()}.c ${c} is no RFC 8460 result type${c === 901 ? ' (libtlsrpt internal "unfinished policy")' : ''}`);
  const d: Omit<FailureDetail, 'failedSessionCount'> = { resultType };
  const s = optionalString(raw, 's', where);
  if (s !== undefined) d.sendingMtaIp = s;
  const n = optionalString(raw, 'n', where);
  if (n !== undefined) d.receivingMxHostname = n;
  const h = optionalString(raw, 'h', where);
  if (h !== undefined) d.receivingMxHelo = h;
  const r = optionalString(raw, 'r', where);
  if (r !== undefined) d.receivingIp = r;
  const a = optionalString(raw, 'a', where);
  if (a !== undefined) d.additionalInformation = a;
  const f = optionalString(raw, 'f', where);
  if (f !== undefined) d.failureReasonCode = f;
  return d;
}

function appliedPolicy(raw: unknown, recipientDomain: string, where: Where): AppliedPolicy {
  if (!isObject(raw)) throw new Reject('bad-policies', `${where()} is not an object`);
  const code = raw['policy-type'];
  const policyType = typeof code === 'number' ? policyTypeFromCode(code) : undefined;
  if (policyType === undefined) throw new Reject('unknown-policy-type', `${where()}.policy-type is ${JSON.stringify(code) ?? 'absent'}, expected 1 (tlsa), 2 (sts) or 9 (no-policy-found)`);
  const rawDomain = raw['policy-domain'];
  let policyDomain = recipientDomain;
  if (rawDomain !== undefined && rawDomain !== null && rawDomain !== '') {
    const pd = typeof rawDomain === 'string' ? normalizeDatagramDomain(rawDomain) : undefined;
    if (pd === undefined) throw new Reject('bad-policies', `${where()}.policy-domain ${JSON.stringify(rawDomain).slice(0, 80)} is not a domain name`);
    policyDomain = pd;
  }
  const f = raw.f;
  if (f !== 0 && f !== 1) throw new Reject('bad-policies', `${where()}.f is ${JSON.stringify(f) ?? 'absent'}, expected 0 (success) or 1 (failure)`);
  const policy: Policy = {
    policyType,
    policyString: stringArray(raw, 'policy-string', where),
    policyDomain,
    mxHost: stringArray(raw, 'mx-host', where),
  };
  const failureDetails: Omit<FailureDetail, 'failedSessionCount'>[] = [];
  const details = raw['failure-details'];
  if (details !== undefined && details !== null) {
    if (!Array.isArray(details)) throw new Reject('bad-policies', `${where()}.failure-details is not an array`);
    for (let i = 0; i < details.length; i++) failureDetails.push(failureDetail(details[i], () => `${where()}.failure-details[${i}]`));
  }
  return { policy, failed: f === 1, failureDetails };
}

/** Decodes an already-parsed datagram object (shared by the byte and text entry points). */
function fromValue(value: unknown): Dpv1Result {
  if (!isObject(value)) {
    return { ok: false, reason: 'not-an-object', detail: `top level is ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}` };
  }
  const dpv = value.dpv;
  const unsupportedDpv = dpv === '1' || dpv === 1 ? undefined : String(JSON.stringify(dpv) ?? 'absent').slice(0, 40);
  try {
    const d = value.d;
    if (typeof d !== 'string' || d === '') throw new Reject('missing-domain', `d is ${JSON.stringify(d)?.slice(0, 80) ?? 'absent'}, expected the recipient domain`);
    const recipientDomain = normalizeDatagramDomain(d);
    if (recipientDomain === undefined) throw new Reject('missing-domain', `d ${JSON.stringify(d).slice(0, 80)} is not a domain name`);
    const policies = value.policies;
    if (!Array.isArray(policies) || policies.length === 0) throw new Reject('bad-policies', 'policies is absent, empty or not an array');
    const applied: AppliedPolicy[] = new Array(policies.length);
    for (let i = 0; i < policies.length; i++) applied[i] = appliedPolicy(policies[i], recipientDomain, () => `policies[${i}]`);
    const outcome: TlsSessionOutcome = { recipientDomain, policies: applied };
    if (typeof value.pr === 'string' && value.pr !== '') outcome.tlsrptRecord = value.pr;
    return unsupportedDpv === undefined ? { ok: true, outcome } : { ok: true, outcome, unsupportedDpv };
  } catch (e) {
    if (!(e instanceof Reject)) throw e;
    return unsupportedDpv === undefined
      ? { ok: false, reason: e.reason, detail: e.detail }
      : { ok: false, reason: e.reason, detail: e.detail, unsupportedDpv };
  }
}

/**
 * Decodes one datagram from text (already valid UTF-8).
 * @example decodeDpv1Text('{"dpv":"1","d":"Example.NET.","policies":[{"policy-type":9,"t":0,"f":0}]}')
 *   // { ok: true, outcome: { recipientDomain: 'example.net', policies: [...] } }
 */
export function decodeDpv1Text(text: string): Dpv1Result {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    const t = text.trimEnd();
    const cut = t.trimStart().startsWith('{') && !t.endsWith('}');
    return { ok: false, reason: cut ? 'truncated' : 'not-json', detail: (e as Error).message.slice(0, 120) };
  }
  return fromValue(value);
}

/**
 * Decodes one datagram from bytes `[start, end)` of `buf` (the receive arena).
 * @example decodeDpv1(Buffer.from('{"dpv":"1","d":"example.org","policies":[{"policy-type":9,"t":0,"f":0}]}'))
 */
export function decodeDpv1(buf: Buffer, start = 0, end = buf.length): Dpv1Result {
  if (end - start > DPV1_MAX_BYTES) return { ok: false, reason: 'oversize', detail: `${end - start} bytes, limit ${DPV1_MAX_BYTES}` };
  const text = buf.toString('utf8', start, end);
  // Decoding replaces invalid sequences with U+FFFD; only then is the (rarer) full check needed.
  if (text.includes('\uFFFD') && !isUtf8(buf.subarray(start, end))) return { ok: false, reason: 'invalid-utf8', detail: 'bytes are not valid UTF-8' };
  return decodeDpv1Text(text);
}
