/**
 * @module receiving/dkim/verify — DKIM check of e-mailed reports (RFC 8460 §3: an e-mailed report MUST
 * carry a valid DKIM signature of the reporting domain; receivers MUST ignore unsigned ones).
 * We record pass / fail / none, the signing domain, and whether the signer aligns (same
 * organisational domain) with the report's contact-info, its TLS-Report-Submitter or its From;
 * the policy (`flag`, the default, or `reject`) decides what happens to the rest.
 */
import { createRequire } from 'node:module';
import { domainOfContactInfo, organizationalDomain } from '../../identity/org-domain.js';
import { TtlCache } from '../../common/ttl-cache.js';

const require = createRequire(import.meta.url);

/**
 * mailauth 4.13.3 turns the key record into a KeyObject (createPublicKey, base64 checks) for
 * every signature it verifies: about half of its verification time on a batch of reports from
 * a few signers. Its verifier takes `getPublicKey` from its tools module when it is first
 * loaded, so the tools export is wrapped here, BEFORE the verifier is loaded, with a memo keyed
 * by the exact key record the resolver returned: a rotated key is a new record, a new entry.
 */
function installPublicKeyMemo(): void {
  const tools = require('mailauth/lib/tools.js') as { getPublicKey: (...a: any[]) => Promise<any>; __tlsrptMemo?: boolean };
  if (tools.__tlsrptMemo) return;
  const original = tools.getPublicKey;
  // No expiry of its own: the key is the record itself, so a changed record is a new entry.
  const memo = new TtlCache<Promise<any>>({ maxEntries: 1000, maxTtl: Infinity });
  tools.getPublicKey = async (type: string, name: string, minBitLength: number, resolver?: DkimResolver) => {
    if (!resolver) return original(type, name, minBitLength, resolver);
    const records = await resolver(name, 'TXT');
    const key = `${type}\n${name}\n${minBitLength}\n${JSON.stringify(records)}`;
    let parsed = memo.get(key);
    if (!parsed) {
      parsed = original(type, name, minBitLength, async () => records);
      memo.set(key, parsed, Infinity);
      parsed.catch(() => memo.delete(key)); // errors are cheap to repeat and carry per-call details
    }
    return parsed;
  };
  tools.__tlsrptMemo = true;
}
installPublicKeyMemo();
const { dkimVerify } = require('mailauth/lib/dkim/verify.js') as typeof import('mailauth/lib/dkim/verify.js');

/** mailauth's resolver contract (`dns.promises.resolve(name, rrtype)`). */
export type DkimResolver = (name: string, rrtype: string) => Promise<any>;

export type DkimPolicy = 'flag' | 'reject';

/** The identities of a report a signer may align with (docs/spec/quirks.md "Sender identity"). */
export interface ReportIdentities {
  /** The report's `contact-info` (an address, a URL or a domain). */
  contactInfo?: string;
  /** The `TLS-Report-Submitter` header. */
  submitter?: string;
  /** The From address (or its domain). */
  from?: string;
}

export interface DkimSignatureResult {
  signingDomain: string;
  selector?: string;
  result: 'pass' | 'fail';
  comment?: string;
  /** `h=` covers TLS-Report-Domain and TLS-Report-Submitter (RFC 8460 §3; Microsoft does not). */
  coversReportHeaders: boolean;
}

export interface DkimResult {
  result: 'pass' | 'fail' | 'none';
  /** The `d=` of the signature the verdict is about (the best one: passing and aligned first). */
  signingDomain?: string;
  selector?: string;
  /** Signer's organisational domain equals that of contact-info, TLS-Report-Submitter or From. */
  aligned: boolean;
  alignedWith?: 'contact-info' | 'tls-report-submitter' | 'from';
  /** `h=` covers TLS-Report-Domain and TLS-Report-Submitter (RFC 8460 §3; Microsoft does not). */
  coversReportHeaders?: boolean;
  comment?: string;
  signatures: DkimSignatureResult[];
}

export interface VerifyDkimOptions {
  resolver?: DkimResolver;
  /** Verification time (signature expiry); default now. */
  now?: Date;
}

/**
 * Verifies every DKIM signature of a raw message and sums them up for one report.
 * @example
 * const dkim = await verifyDkim(raw, { submitter: 'google.com', from: 'noreply@google.com' }, { resolver });
 * if (dkim.result === 'pass' && dkim.aligned) …
 */
export async function verifyDkim(raw: Uint8Array, identities: ReportIdentities, opts: VerifyDkimOptions = {}): Promise<DkimResult> {
  return summarizeDkim(await verifyDkimSignatures(raw, opts), identities);
}

/** Checks each DKIM-Signature of a message (once per message; alignment is judged per report by `summarizeDkim`). */
export async function verifyDkimSignatures(raw: Uint8Array, opts: VerifyDkimOptions = {}): Promise<DkimSignatureResult[]> {
  let out: Awaited<ReturnType<typeof dkimVerify>>;
  try {
    out = await dkimVerify(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength), {
      resolver: opts.resolver,
      ...(opts.now ? { curTime: opts.now } : {}),
    });
  } catch (e) {
    return [{ signingDomain: '', result: 'fail', comment: `DKIM verification failed: ${(e as Error).message}`, coversReportHeaders: false }];
  }
  const signatures: DkimSignatureResult[] = [];
  for (const r of (out.results ?? []) as any[]) {
    if (!r?.signingDomain) continue; // mailauth's "no signature" placeholder
    let result: 'pass' | 'fail' = r.status?.result === 'pass' ? 'pass' : 'fail';
    let comment: string | undefined = r.status?.comment || (result === 'fail' ? r.status?.result : undefined);
    if (result === 'pass' && r.canonBodyLengthLimited) {
      // RFC 8460 §3: the signature must not use l= (a partly signed body can be appended to).
      result = 'fail';
      comment = 'signature uses l= (body length limit), which RFC 8460 §3 forbids';
    }
    if (result === 'pass' && typeof r.rr === 'string' && !keyAllowsTlsrpt(r.rr)) {
      // RFC 8460 §3: a key restricted to other services (s=email) must not vouch for reports.
      result = 'fail';
      comment = 'the DKIM key does not allow service type tlsrpt (s=)';
    }
    const keys: string[] = (r.signingHeaders?.keys ?? '').toString().toLowerCase().split(/\s*:\s*/);
    signatures.push({
      signingDomain: String(r.signingDomain).toLowerCase(),
      ...(r.selector ? { selector: String(r.selector) } : {}),
      result,
      ...(comment ? { comment: String(comment) } : {}),
      coversReportHeaders: keys.includes('tls-report-domain') && keys.includes('tls-report-submitter'),
    });
  }
  return signatures;
}

/** The verdict about one report: the best signature (passing and aligned first) and its alignment. */
export function summarizeDkim(signatures: readonly DkimSignatureResult[], identities: ReportIdentities): DkimResult {
  if (!signatures.length) return { result: 'none', aligned: false, comment: 'the message has no DKIM signature', signatures: [] };
  const candidates = signatures.map((s) => ({ s, alignedWith: s.signingDomain ? alignment(s.signingDomain, identities) : undefined }));
  candidates.sort((a, b) => rank(b.s.result, b.alignedWith) - rank(a.s.result, a.alignedWith));
  const [best] = candidates;
  if (!best) return { result: 'none', aligned: false, comment: 'the message has no DKIM signature', signatures: [] };
  return {
    result: best.s.result,
    ...(best.s.signingDomain ? { signingDomain: best.s.signingDomain } : {}),
    ...(best.s.selector ? { selector: best.s.selector } : {}),
    aligned: Boolean(best.alignedWith),
    ...(best.alignedWith ? { alignedWith: best.alignedWith } : {}),
    coversReportHeaders: best.s.coversReportHeaders,
    ...(best.s.comment ? { comment: best.s.comment } : {}),
    signatures: [...signatures],
  };
}

function rank(result: 'pass' | 'fail', alignedWith: string | undefined): number {
  return (result === 'pass' ? 2 : 0) + (alignedWith ? 1 : 0);
}

/**
 * What the DKIM policy makes of a result: `flag` accepts everything (the result is stored with
 * the report); `reject` refuses unsigned, failing and unaligned reports, as RFC 8460 §3 asks.
 */
export function dkimVerdict(dkim: DkimResult, policy: DkimPolicy): { accept: true } | { accept: false; reason: string } {
  if (policy !== 'reject') return { accept: true };
  if (dkim.result === 'none') return { accept: false, reason: 'unsigned e-mail report (RFC 8460 §3 requires a DKIM signature; receiving.dkim is "reject")' };
  if (dkim.result === 'fail') return { accept: false, reason: `DKIM signature of ${dkim.signingDomain} does not verify: ${dkim.comment ?? 'fail'}` };
  if (!dkim.aligned) return { accept: false, reason: `DKIM signer ${dkim.signingDomain} is not the reporting domain (contact-info, TLS-Report-Submitter, From)` };
  return { accept: true };
}

/** Which identity the signer's organisational domain matches, in order of trust. */
function alignment(signingDomain: string, ids: ReportIdentities): DkimResult['alignedWith'] {
  const signer = organizationalDomain(signingDomain);
  const contact = ids.contactInfo ? domainOfContactInfo(ids.contactInfo) : undefined;
  if (contact && organizationalDomain(contact) === signer) return 'contact-info';
  if (ids.submitter && organizationalDomain(ids.submitter) === signer) return 'tls-report-submitter';
  const from = ids.from ? ids.from.split('@').pop() : undefined;
  if (from && organizationalDomain(from) === signer) return 'from';
  return undefined;
}

// One definition of organisational domain and contact-info domain for the whole service:
// DKIM alignment and de-duplication must agree on who a reporter is.
export { domainOfContactInfo, organizationalDomain } from '../../identity/org-domain.js';

/** `s=` of a DKIM key record: absent or containing `*` or `tlsrpt` allows reports (RFC 6376 §3.6.1, RFC 8460 §3). */
function keyAllowsTlsrpt(rr: string): boolean {
  const m = /(?:^|;)\s*s\s*=\s*([^;]*)/i.exec(rr);
  if (m?.[1] === undefined) return true;
  const services = m[1].split(':').map((s) => s.trim().toLowerCase());
  return services.includes('*') || services.includes('tlsrpt');
}

/**
 * Caches a resolver's answers (and failures) for `ttlMs`: a batch import of thousands of reports
 * from a few signers must not ask DNS for the same key thousands of times.
 */
export function cachingResolver(resolver: DkimResolver, ttlMs = 300_000, maxEntries = 1000, now: () => number = Date.now): DkimResolver {
  const cache = new TtlCache<Promise<any>>({ clock: () => now() / 1000, maxEntries });
  return (name, rrtype) => {
    const key = `${rrtype} ${name.toLowerCase()}`;
    const hit = cache.get(key);
    if (hit) return hit;
    const answer = resolver(name, rrtype);
    cache.set(key, answer, ttlMs / 1000);
    // A failing lookup is remembered only briefly: a DNS hiccup must not fail a whole hour of reports.
    answer.catch(() => { if (cache.get(key) === answer) cache.set(key, answer, Math.min(ttlMs, 5000) / 1000); });
    return answer;
  };
}
