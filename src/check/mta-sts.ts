/**
 * @module check/mta-sts — the MTA-STS steps of `tlsrpt check` (RFC 8461): exactly one
 * `v=STSv1` TXT record at `_mta-sts.<domain>` with a valid id (§3.1), and the policy fetched
 * from `https://mta-sts.<domain>/.well-known/mta-sts.txt` as a sender does (§3.3): trusted
 * certificate for the policy host, HTTP 200 without redirects, `text/plain`, at most 64 KiB,
 * then parsed (§3.2: version, mode, mx patterns, max_age ≤ 31557600).
 */
import { createRequire } from 'node:module';
import type { CheckStep, ResolvedDeps } from './types.js';
import { dnsFailure } from './dns.js';
import { httpsGet } from './https-get.js';
import { describeCertificate } from './certificate.js';

/** What parsePolicy (mailauth) returns. */
export interface StsPolicy { version: string; mode: 'enforce' | 'testing' | 'none'; mx: string[]; maxAge: number }

const require = createRequire(import.meta.url);
const { parsePolicy } = require('mailauth/lib/mta-sts.js') as { parsePolicy(text: string): StsPolicy };

/** RFC 8461 §3.3. */
export const MAX_POLICY_BYTES = 64 * 1024;
/** RFC 8461 §3.2: max_age at most one year. */
export const MAX_AGE_LIMIT = 31557600;

export interface StsOutcome {
  steps: CheckStep[];
  /** The policy when it was fetched and parsed. */
  policy?: StsPolicy;
  /** The policy text exactly as served (for drift: compare with reports' policy-string). */
  policyText?: string;
  id?: string;
}

export async function checkMtaSts(domain: string, deps: ResolvedDeps): Promise<StsOutcome> {
  const name = `_mta-sts.${domain}`;
  const title = `MTA-STS record at ${name}`;
  let records: string[];
  try {
    records = (await deps.resolver.resolveTxt(name)).records.map((r) => r.join(''));
  } catch (e) {
    return { steps: [dnsFailure('mta-sts-record', title, name, e)] };
  }
  const sts = records.filter((t) => /^v=STSv1(?:;|\s|$)/.test(t));
  if (sts.length === 0) {
    return { steps: [{
      id: 'mta-sts-record', title, status: 'fail', detail: 'no v=STSv1 record: senders do not require TLS for this domain, and report no-policy-found',
      hint: `publish "v=STSv1; id=20240101T000000;" at ${name} and a policy at https://mta-sts.${domain}/.well-known/mta-sts.txt (RFC 8461 §3)`,
    }] };
  }
  if (sts.length > 1) {
    return { steps: [{ id: 'mta-sts-record', title, status: 'fail', detail: `${sts.length} v=STSv1 records: ${sts.map((t) => JSON.stringify(t)).join(', ')}`, hint: 'keep exactly one (RFC 8461 §3.1: with several, senders assume no policy)' }] };
  }
  const record = sts[0]!;
  const id = /(?:^|;)\s*id=([^;\s]*)/.exec(record)?.[1];
  if (!id || !/^[A-Za-z0-9]{1,32}$/.test(id)) {
    return { steps: [{ id: 'mta-sts-record', title, status: 'fail', detail: `${JSON.stringify(sts[0])}: id ${id === undefined ? 'missing' : `${JSON.stringify(id)} is not 1-32 letters and digits`}`, hint: 'write id=<1-32 letters or digits>, changed whenever the policy changes (RFC 8461 §3.1)' }] };
  }
  const steps: CheckStep[] = [{ id: 'mta-sts-record', title, status: 'pass', detail: record, data: { record, id } }];
  const fetched = await fetchPolicy(domain, deps);
  steps.push(fetched.step);
  if (!fetched.text) return { steps, id };
  let policy: StsPolicy;
  try {
    policy = parsePolicy(fetched.text);
  } catch (e) {
    steps.push({ id: 'mta-sts-policy', title: 'MTA-STS policy content', status: 'fail', detail: `${(e as Error).message} (${(e as { code?: string }).code ?? 'invalid'})`, hint: 'the policy needs "version: STSv1", "mode: enforce|testing|none", one "mx:" line per MX pattern and "max_age: <seconds>" (RFC 8461 §3.2)' });
    return { steps, id, policyText: fetched.text };
  }
  const badPattern = policy.mx?.find((p) => !/^(\*\.)?[a-z0-9_-]+(\.[a-z0-9_-]+)+$/.test(p));
  const detail = `mode ${policy.mode}, mx ${(policy.mx ?? []).join(' ') || '(none)'}, max_age ${policy.maxAge}`;
  if (badPattern) {
    steps.push({ id: 'mta-sts-policy', title: 'MTA-STS policy content', status: 'fail', detail: `${detail}; mx pattern ${JSON.stringify(badPattern)} is neither a host name nor "*." plus one (RFC 8461 §4.1)`, hint: 'write mx: mail.example.org or mx: *.example.org' });
  } else if (policy.maxAge < 86400) {
    steps.push({ id: 'mta-sts-policy', title: 'MTA-STS policy content', status: 'warn', detail, hint: 'max_age below a day gives little protection; RFC 8461 §3.2 suggests weeks (e.g. 1209600)' });
  } else if (policy.mode !== 'enforce') {
    steps.push({ id: 'mta-sts-policy', title: 'MTA-STS policy content', status: 'warn', detail, hint: `mode ${policy.mode}: senders deliver even when TLS fails; switch to enforce once the reports show no failures` });
  } else {
    steps.push({ id: 'mta-sts-policy', title: 'MTA-STS policy content', status: 'pass', detail });
  }
  steps[steps.length - 1]!.data = { policy, text: fetched.text };
  return { steps, policy, policyText: fetched.text, id };
}

async function fetchPolicy(domain: string, deps: ResolvedDeps): Promise<{ step: CheckStep; text?: string }> {
  const host = `mta-sts.${domain}`;
  const port = deps.ports.https;
  const url = `https://${host}${port === 443 ? '' : `:${port}`}/.well-known/mta-sts.txt`;
  const title = `MTA-STS policy at ${url}`;
  const fail = (detail: string, hint: string, data?: Record<string, unknown>): { step: CheckStep } => ({ step: { id: 'mta-sts-fetch', title, status: 'fail', detail, hint, data } });
  let addresses: string[];
  try {
    addresses = await deps.resolver.resolveAddresses(host);
  } catch (e) {
    return { step: dnsFailure('mta-sts-fetch', title, host, e) };
  }
  if (!addresses.length) return fail(`${host} has no address`, `publish an A/AAAA record for ${host} (senders report sts-policy-fetch-error)`);
  let res;
  try {
    res = await httpsGet({ host, address: addresses[0]!, port, path: '/.well-known/mta-sts.txt', maxBytes: MAX_POLICY_BYTES, timeoutMs: deps.timeoutMs, ca: deps.ca, now: deps.now() });
  } catch (e) {
    return fail(`HTTPS to ${addresses[0]}:${port} failed: ${(e as Error).message}`, `serve the policy over HTTPS on ${host} (senders report sts-policy-fetch-error)`);
  }
  const cert = res.certificate;
  const certData = { certificate: { ...cert, chainDer: undefined } };
  if (!cert.trusted || !cert.nameMatches || cert.expired || cert.notYetValid) {
    const why = !cert.trusted ? `not trusted (${cert.trustError})` : cert.expired ? 'expired' : cert.notYetValid ? 'not yet valid' : `not valid for ${host} (${cert.nameError})`;
    return fail(`certificate ${why}: ${describeCertificate(cert)}`, `install a certificate for ${host} from a public CA (senders report sts-webpki-invalid, RFC 8461 §3.3)`, certData);
  }
  if (res.status >= 300 && res.status < 400) return fail(`HTTP ${res.status} redirect${res.location ? ` to ${res.location}` : ''}`, 'serve the policy directly: senders do not follow redirects (RFC 8461 §3.3)');
  if (res.status !== 200) return fail(`HTTP ${res.status}`, 'answer 200 with the policy (RFC 8461 §3.3)');
  if (res.oversized) return fail(`the policy is larger than ${MAX_POLICY_BYTES} bytes`, 'a policy is a few lines; senders stop reading at 64 KiB (RFC 8461 §3.3)');
  if (!/^text\/plain\s*(;|$)/i.test(res.contentType)) return fail(`Content-Type ${JSON.stringify(res.contentType)}, not text/plain`, 'serve mta-sts.txt as text/plain (RFC 8461 §3.2)');
  return { step: { id: 'mta-sts-fetch', title, status: 'pass', detail: `HTTP 200 text/plain, ${res.body.length} bytes; ${describeCertificate(cert)}`, data: certData }, text: res.body.toString('utf8') };
}

/** RFC 8461 §4.1: a pattern is a host name, or `*.` and a suffix where `*` stands for exactly one label. */
export function mxMatchesPattern(mx: string, pattern: string): boolean {
  const host = mx.toLowerCase().replace(/\.$/, '');
  const p = pattern.toLowerCase().replace(/\.$/, '');
  if (!p.startsWith('*.')) return host === p;
  const suffix = p.slice(1);
  return host.endsWith(suffix) && !host.slice(0, -suffix.length).includes('.') && host.length > suffix.length;
}
