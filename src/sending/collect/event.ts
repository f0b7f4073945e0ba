/** @module sending/collect/event — one TLS session outcome as an MTA reports it (libtlsrpt shape, RFC 8460 names) */
import { z } from 'zod';
import { RESULT_TYPES, type FailureDetail, type Policy } from '../../rfc8460/types.js';
import { normalizeDomain } from '../../common/domain.js';

/** One TLS session outcome, libtlsrpt shape with RFC names. */
export interface TlsSessionOutcome {
  /** Lower-cased, one trailing dot stripped. */
  recipientDomain: string;
  /** Raw _smtp._tls TXT the MTA looked up (libtlsrpt 'pr'). */
  tlsrptRecord?: string;
  /** Loop safety: outcomes of our own report mail are dropped (RFC 8460 §5.3). */
  isReportDelivery?: boolean;
  policies: AppliedPolicy[];
}

/** One policy applied to the session; `failed` is the session's final result for this policy. */
export interface AppliedPolicy {
  policy: Policy;
  failed: boolean;
  failureDetails: Omit<FailureDetail, 'failedSessionCount'>[];
}

// ---------------------------------------------------------------------------------------------
// The JSON form (HTTP `POST /api/v1/events` and the library's JSON entry), in the RFC's vocabulary.

// Domains as MTAs write them; normalised (lower case, one trailing dot stripped) on the way in.
const DOMAIN_RE = /^[^\s\u0000-\u001f\u007f/\\@]+$/u;
const domainName = z.string().min(1).max(254).regex(DOMAIN_RE, 'expected a domain name');
const ip = z.union([z.ipv4(), z.ipv6()], { error: 'expected an IPv4 or IPv6 address' });
const text = (max: number) => z.string().max(max);

/** One failure detail, RFC 8460 §4.4 names (without `failed-session-count`: each is one session). */
export const FailureDetailJson = z.strictObject({
  'result-type': z.enum(RESULT_TYPES as [string, ...string[]], { error: `expected one of the RFC 8460 §4.3 result types: ${RESULT_TYPES.join(', ')}` }),
  'sending-mta-ip': ip.optional(),
  'receiving-mx-hostname': text(255).optional(),
  'receiving-mx-helo': text(4096).optional(),
  'receiving-ip': ip.optional(),
  'additional-information': text(4096).optional(),
  'failure-reason-code': text(4096).optional(),
});

/** One policy applied to the session and this session's result for it. */
export const AppliedPolicyJson = z.strictObject({
  'policy-type': z.enum(['tlsa', 'sts', 'no-policy-found']),
  /** Defaults to the event's recipient-domain (as libtlsrpt does). */
  'policy-domain': domainName.optional(),
  'policy-string': z.array(text(4096)).max(256).optional(),
  'mx-host': z.array(text(255)).max(256).optional(),
  result: z.enum(['success', 'failure']),
  'failure-details': z.array(FailureDetailJson).max(256).optional(),
});

/** One TLS session outcome. */
export const TlsSessionOutcomeJson = z.strictObject({
  'recipient-domain': domainName,
  /** The `_smtp._tls` TXT record the MTA looked up, when it did (it carries the rua). */
  'tlsrpt-record': text(4096).optional(),
  /** True for the delivery of a TLS report itself: dropped (RFC 8460 §5.3). */
  'is-report-delivery': z.boolean().optional(),
  policies: z.array(AppliedPolicyJson).min(1).max(256),
});

/** The body of `POST /api/v1/events`: a batch of outcomes. */
export const EventBatchJson = z.strictObject({ events: z.array(TlsSessionOutcomeJson).max(100_000) });

export type TlsSessionOutcomeJson = z.infer<typeof TlsSessionOutcomeJson>;
export type EventBatchJson = z.infer<typeof EventBatchJson>;

/** A rejected JSON event: `path` in the input's own names, e.g. `events[2].policies[0].result`. */
export class EventJsonError extends Error {
  override name = 'EventJsonError';
  constructor(readonly path: string, message: string) {
    super(path ? `${path}: ${message}` : message);
  }
}

const pathOf = (p: readonly PropertyKey[]) =>
  p.reduce<string>((s, k) => (typeof k === 'number' ? `${s}[${k}]` : s ? `${s}.${String(k)}` : String(k)), '');

const normalize = normalizeDomain;

/** Converts one validated JSON event to the internal model. */
export function outcomeFromJson(e: TlsSessionOutcomeJson): TlsSessionOutcome {
  const recipientDomain = normalize(e['recipient-domain']);
  return {
    recipientDomain,
    ...(e['tlsrpt-record'] !== undefined ? { tlsrptRecord: e['tlsrpt-record'] } : {}),
    ...(e['is-report-delivery'] ? { isReportDelivery: true } : {}),
    policies: e.policies.map((p) => ({
      policy: {
        policyType: p['policy-type'],
        policyDomain: p['policy-domain'] !== undefined ? normalize(p['policy-domain']) : recipientDomain,
        policyString: p['policy-string'] ?? [],
        mxHost: p['mx-host'] ?? [],
      },
      failed: p.result === 'failure',
      failureDetails: (p['failure-details'] ?? []).map((d) => {
        const out: AppliedPolicy['failureDetails'][number] = { resultType: d['result-type'] };
        if (d['sending-mta-ip'] !== undefined) out.sendingMtaIp = d['sending-mta-ip'];
        if (d['receiving-mx-hostname'] !== undefined) out.receivingMxHostname = d['receiving-mx-hostname'];
        if (d['receiving-mx-helo'] !== undefined) out.receivingMxHelo = d['receiving-mx-helo'];
        if (d['receiving-ip'] !== undefined) out.receivingIp = d['receiving-ip'];
        if (d['additional-information'] !== undefined) out.additionalInformation = d['additional-information'];
        if (d['failure-reason-code'] !== undefined) out.failureReasonCode = d['failure-reason-code'];
        return out;
      }),
    })),
  };
}

/**
 * Validates a whole batch (`{"events": [...]}`) and converts it; all or nothing: throws
 * {@link EventJsonError} naming the first bad field, so nothing of a bad batch is stored.
 * @example parseEventBatch({ events: [{ 'recipient-domain': 'example.org', policies: [{ 'policy-type': 'no-policy-found', result: 'success' }] }] })
 */
export function parseEventBatch(input: unknown): TlsSessionOutcome[] {
  const fast = fastParseEventBatch(input);
  if (fast) return fast;
  const r = EventBatchJson.safeParse(input);
  if (!r.success) {
    const issue = r.error.issues[0];
    const keys = issue?.code === 'unrecognized_keys' ? issue.keys : undefined;
    throw new EventJsonError(pathOf(issue?.path ?? []), keys ? `unknown key ${keys.map((k) => JSON.stringify(k)).join(', ')}` : issue?.message ?? 'invalid event');
  }
  return r.data.events.map(outcomeFromJson);
}

// ---------------------------------------------------------------------------------------------
// Fast path: the same schema checked by hand (zod costs ~5 µs per event, this ~1 µs). It only
// ever ACCEPTS what the zod schema accepts (a property test holds it to that); anything it is
// unsure of returns undefined and the zod schema decides, and words the error.

const POLICY_TYPE_SET = new Set(['tlsa', 'sts', 'no-policy-found']);
const RESULT_TYPE_SET = new Set(RESULT_TYPES);
const BATCH_KEYS = new Set(['events']);
const EVENT_KEYS = new Set(['recipient-domain', 'tlsrpt-record', 'is-report-delivery', 'policies']);
const POLICY_KEYS = new Set(['policy-type', 'policy-domain', 'policy-string', 'mx-host', 'result', 'failure-details']);
const DETAIL_KEYS = new Set(['result-type', 'sending-mta-ip', 'receiving-mx-hostname', 'receiving-mx-helo', 'receiving-ip', 'additional-information', 'failure-reason-code']);

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const onlyKeys = (o: Record<string, unknown>, allowed: Set<string>) => {
  for (const k in o) if (!allowed.has(k)) return false;
  return true;
};
const isDomain = (v: unknown): v is string => typeof v === 'string' && v.length >= 1 && v.length <= 254 && DOMAIN_RE.test(v);
const optText = (v: unknown, max: number) => v === undefined || (typeof v === 'string' && v.length <= max);
const strArray = (v: unknown, maxItems: number, maxLen: number): v is string[] => {
  if (!Array.isArray(v) || v.length > maxItems) return false;
  for (const x of v) if (typeof x !== 'string' || x.length > maxLen) return false;
  return true;
};
const optIp = (v: unknown) => v === undefined || (typeof v === 'string' && ip.safeParse(v).success);

/** Validates and converts like `EventBatchJson` + `outcomeFromJson`, or returns undefined (then zod decides). */
export function fastParseEventBatch(input: unknown): TlsSessionOutcome[] | undefined {
  if (!isObj(input) || !onlyKeys(input, BATCH_KEYS)) return undefined;
  const events = input.events;
  if (!Array.isArray(events) || events.length > 100_000) return undefined;
  const out: TlsSessionOutcome[] = new Array(events.length);
  for (let i = 0; i < events.length; i++) {
    const e = events[i];
    if (!isObj(e) || !onlyKeys(e, EVENT_KEYS)) return undefined;
    const rd = e['recipient-domain'];
    if (!isDomain(rd) || !optText(e['tlsrpt-record'], 4096)) return undefined;
    const ird = e['is-report-delivery'];
    if (ird !== undefined && typeof ird !== 'boolean') return undefined;
    const ps = e.policies;
    if (!Array.isArray(ps) || ps.length < 1 || ps.length > 256) return undefined;
    const recipientDomain = normalize(rd);
    const policies: AppliedPolicy[] = new Array(ps.length);
    for (let j = 0; j < ps.length; j++) {
      const p = ps[j];
      if (!isObj(p) || !onlyKeys(p, POLICY_KEYS)) return undefined;
      const type = p['policy-type'];
      if (typeof type !== 'string' || !POLICY_TYPE_SET.has(type)) return undefined;
      const pd = p['policy-domain'];
      if (pd !== undefined && !isDomain(pd)) return undefined;
      const strings = p['policy-string'];
      if (strings !== undefined && !strArray(strings, 256, 4096)) return undefined;
      const mx = p['mx-host'];
      if (mx !== undefined && !strArray(mx, 256, 255)) return undefined;
      const result = p.result;
      if (result !== 'success' && result !== 'failure') return undefined;
      const fds = p['failure-details'];
      let failureDetails: AppliedPolicy['failureDetails'] = [];
      if (fds !== undefined) {
        if (!Array.isArray(fds) || fds.length > 256) return undefined;
        failureDetails = new Array(fds.length);
        for (let k = 0; k < fds.length; k++) {
          const d = fds[k];
          if (!isObj(d) || !onlyKeys(d, DETAIL_KEYS)) return undefined;
          const rt = d['result-type'];
          if (typeof rt !== 'string' || !RESULT_TYPE_SET.has(rt)) return undefined;
          if (!optIp(d['sending-mta-ip']) || !optIp(d['receiving-ip'])) return undefined;
          if (!optText(d['receiving-mx-hostname'], 255) || !optText(d['receiving-mx-helo'], 4096) || !optText(d['additional-information'], 4096) || !optText(d['failure-reason-code'], 4096)) return undefined;
          const fd: AppliedPolicy['failureDetails'][number] = { resultType: rt };
          if (d['sending-mta-ip'] !== undefined) fd.sendingMtaIp = d['sending-mta-ip'] as string;
          if (d['receiving-mx-hostname'] !== undefined) fd.receivingMxHostname = d['receiving-mx-hostname'] as string;
          if (d['receiving-mx-helo'] !== undefined) fd.receivingMxHelo = d['receiving-mx-helo'] as string;
          if (d['receiving-ip'] !== undefined) fd.receivingIp = d['receiving-ip'] as string;
          if (d['additional-information'] !== undefined) fd.additionalInformation = d['additional-information'] as string;
          if (d['failure-reason-code'] !== undefined) fd.failureReasonCode = d['failure-reason-code'] as string;
          failureDetails[k] = fd;
        }
      }
      policies[j] = {
        policy: { policyType: type, policyDomain: pd !== undefined ? normalize(pd) : recipientDomain, policyString: strings ?? [], mxHost: mx ?? [] },
        failed: result === 'failure',
        failureDetails,
      };
    }
    const o: TlsSessionOutcome = { recipientDomain, policies };
    if (e['tlsrpt-record'] !== undefined) o.tlsrptRecord = e['tlsrpt-record'] as string;
    if (ird) o.isReportDelivery = true;
    out[i] = o;
  }
  return out;
}
