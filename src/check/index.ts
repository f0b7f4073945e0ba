/**
 * @module check — `tlsrpt check DOMAIN`: the diagnosis an operator runs before and after
 * publishing. The TLSRPT record (RFC 8460 §3), the MTA-STS record and policy (RFC 8461 §3),
 * then every MX host: listed in the policy (§4.1), STARTTLS offered, certificate trusted, valid
 * and issued for the MX name (§4.2), and TLSA matching when the resolver validates DNSSEC
 * (RFC 7672). Steps that do not depend on each other run at once; every I/O dependency is in
 * `CheckDeps`.
 *
 * @example
 * const report = await checkDomain('example.org', { resolver: createResolver({ servers: ['127.0.0.1:53'] }) });
 * if (!report.ok) process.exitCode = 1;
 */
import { domainToASCII } from 'node:url';
import type { CheckDeps, CheckReport, CheckStep, ResolvedDeps } from './types.js';
import { checkTlsrptRecord } from './tlsrpt-record.js';
import { checkMtaSts, mxMatchesPattern, type StsPolicy } from './mta-sts.js';
import { dnsFailure, mxHosts } from './dns.js';
import { probeSmtp } from './smtp-probe.js';
import { describeCertificate } from './certificate.js';
import { tlsaMatches, tlsaText } from './tlsa.js';

export type { CheckDeps, CheckReport, CheckStep, StepStatus, TlsaAnswer } from './types.js';
export { renderCheck } from './render.js';
export { tlsaOverUdp, mxHosts } from './dns.js';
export { checkMtaSts, mxMatchesPattern, type StsPolicy } from './mta-sts.js';
export { tlsaText } from './tlsa.js';

/** Certificates that expire sooner than this get a warning. */
const EXPIRY_WARNING_DAYS = 14;

function resolveDeps(d: CheckDeps): ResolvedDeps {
  return {
    resolver: d.resolver,
    tlsa: d.tlsa,
    ports: { https: d.ports?.https ?? 443, smtp: d.ports?.smtp ?? 25 },
    ca: d.ca,
    now: d.now ?? Date.now,
    timeoutMs: d.timeoutMs ?? 5000,
    ehloName: d.ehloName ?? 'tlsrpt-check.invalid',
  };
}

export async function checkDomain(domainText: string, depsIn: CheckDeps): Promise<CheckReport> {
  const deps = resolveDeps(depsIn);
  const t0 = Date.now();
  const domain = (domainToASCII(domainText.trim().replace(/\.$/, '').toLowerCase()) || domainText.trim().toLowerCase());
  const [tlsrpt, sts, mx] = await Promise.all([
    checkTlsrptRecord(domain, deps),
    checkMtaSts(domain, deps),
    checkMxList(domain, deps),
  ]);
  const perMx = await Promise.all(mx.hosts.map((host) => checkMxHost(host, sts.policy, deps)));
  const steps = [...tlsrpt, ...sts.steps, mx.step, ...perMx.flat()];
  return { domain, ok: steps.every((s) => s.status !== 'fail'), checkedAt: new Date(deps.now()).toISOString(), durationMs: Date.now() - t0, steps };
}

async function checkMxList(domain: string, deps: ResolvedDeps): Promise<{ step: CheckStep; hosts: string[] }> {
  const title = `MX records of ${domain}`;
  let hosts: string[];
  try {
    hosts = await mxHosts(domain, deps);
  } catch (e) {
    return { step: dnsFailure('mx-records', title, domain, e), hosts: [] };
  }
  if (!hosts.length) return { step: { id: 'mx-records', title, status: 'fail', detail: 'no MX hosts (or a null MX)', hint: `publish MX records for ${domain}` }, hosts };
  return { step: { id: 'mx-records', title, status: 'pass', detail: hosts.join(', '), data: { hosts } }, hosts };
}

async function checkMxHost(host: string, policy: StsPolicy | undefined, deps: ResolvedDeps): Promise<CheckStep[]> {
  const steps: CheckStep[] = [];
  if (policy && policy.mode !== 'none') {
    const pattern = policy.mx.find((p) => mxMatchesPattern(host, p));
    steps.push(pattern
      ? { id: 'mx-policy', mx: host, title: `${host} listed in the MTA-STS policy`, status: 'pass', detail: `matches mx: ${pattern}` }
      : { id: 'mx-policy', mx: host, title: `${host} listed in the MTA-STS policy`, status: 'fail', detail: `matches none of ${policy.mx.join(', ')}`, hint: `add "mx: ${host}" to the policy and change the id in the _mta-sts record; in enforce mode senders will not deliver to this MX (RFC 8461 §4.1)` });
  }
  const [probeSteps, tlsa] = await Promise.all([probeMx(host, policy, deps), lookupTlsa(host, deps)]);
  steps.push(...probeSteps.steps);
  steps.push(judgeTlsa(host, tlsa, probeSteps.chainDer));
  return steps;
}

async function probeMx(host: string, policy: StsPolicy | undefined, deps: ResolvedDeps): Promise<{ steps: CheckStep[]; chainDer?: Buffer[] }> {
  const title = `${host}: STARTTLS on port ${deps.ports.smtp}`;
  let addresses: string[];
  try {
    addresses = await deps.resolver.resolveAddresses(host);
  } catch (e) {
    return { steps: [{ ...dnsFailure('mx-starttls', title, host, e), mx: host }] };
  }
  if (!addresses.length) return { steps: [{ id: 'mx-starttls', mx: host, title, status: 'fail', detail: `${host} has no address`, hint: `publish A/AAAA records for ${host}` }] };
  const r = await probeSmtp({ host, address: addresses[0]!, port: deps.ports.smtp, ehloName: deps.ehloName, timeoutMs: deps.timeoutMs, ca: deps.ca, now: deps.now() });
  const sts = policy && policy.mode !== 'none' ? ` (senders with MTA-STS report ${'$'}TYPE${policy.mode === 'enforce' ? ' and do not deliver' : ''})` : '';
  const because = (type: string) => sts.replace('$TYPE', type);
  if (!r.connected) return { steps: [{ id: 'mx-starttls', mx: host, title, status: 'fail', detail: `no SMTP session with ${addresses[0]}: ${r.error}`, hint: 'check that the MX accepts connections on port 25 from outside' }] };
  if (!r.starttlsOffered) return { steps: [{ id: 'mx-starttls', mx: host, title, status: 'fail', detail: `EHLO does not offer STARTTLS${because('starttls-not-supported')}`, hint: 'enable STARTTLS with a certificate for the MX name' }] };
  if (!r.tls || !r.certificate) return { steps: [{ id: 'mx-starttls', mx: host, title, status: 'fail', detail: `TLS handshake failed: ${r.error}`, hint: 'check the MX TLS configuration (protocol versions, certificate and key)' }] };
  const steps: CheckStep[] = [{ id: 'mx-starttls', mx: host, title, status: 'pass', detail: `STARTTLS offered, ${r.protocol} negotiated` }];
  const c = r.certificate;
  const certTitle = `${host}: certificate`;
  const data = { certificate: { ...c, chainDer: undefined } };
  if (c.expired) steps.push({ id: 'mx-certificate', mx: host, title: certTitle, status: 'fail', detail: `expired ${c.validTo}${because('certificate-expired')}; ${describeCertificate(c)}`, hint: 'renew the certificate and reload the MTA', data });
  else if (c.notYetValid) steps.push({ id: 'mx-certificate', mx: host, title: certTitle, status: 'fail', detail: `not valid before ${c.validFrom}; ${describeCertificate(c)}`, hint: "check the server's clock and the certificate's dates", data });
  else if (!c.trusted) steps.push({ id: 'mx-certificate', mx: host, title: certTitle, status: 'fail', detail: `not trusted: ${c.trustError}${because('certificate-not-trusted')}; ${describeCertificate(c)}`, hint: 'use a certificate from a public CA and send the intermediate certificates too', data });
  else if (!c.nameMatches) steps.push({ id: 'mx-certificate', mx: host, title: certTitle, status: 'fail', detail: `not issued for ${host}${because('certificate-host-mismatch')}; ${describeCertificate(c)}`, hint: `get a certificate whose names include ${host} (RFC 8461 §4.2)`, data });
  else if ((c.daysLeft ?? 0) < EXPIRY_WARNING_DAYS) steps.push({ id: 'mx-certificate', mx: host, title: certTitle, status: 'warn', detail: `expires in ${c.daysLeft} day(s); ${describeCertificate(c)}`, hint: 'renew it now', data });
  else steps.push({ id: 'mx-certificate', mx: host, title: certTitle, status: 'pass', detail: `trusted, valid for ${host}, ${c.daysLeft} days left; ${describeCertificate(c)}`, data });
  return { steps, chainDer: c.chainDer };
}

type TlsaLookup = { ok: true; records: import('./types.js').TlsaAnswer['records']; authenticated: boolean } | { ok: false; error: string };

async function lookupTlsa(host: string, deps: ResolvedDeps): Promise<TlsaLookup> {
  if (!deps.tlsa) return { ok: false, error: 'no TLSA lookup configured' };
  try {
    return { ok: true, ...(await deps.tlsa(`_25._tcp.${host}`)) };
  } catch (e) {
    return { ok: false, error: (e as Error).message };
  }
}

function judgeTlsa(host: string, t: TlsaLookup, chainDer: Buffer[] | undefined): CheckStep {
  const title = `${host}: TLSA at _25._tcp.${host}`;
  if (!t.ok) return { id: 'mx-tlsa', mx: host, title, status: 'skip', detail: `not looked up: ${t.error}` };
  if (!t.records.length) return { id: 'mx-tlsa', mx: host, title, status: 'skip', detail: 'no TLSA records (DANE not used for this MX)' };
  const texts = t.records.map(tlsaText);
  if (!t.authenticated) return { id: 'mx-tlsa', mx: host, title, status: 'skip', detail: `${texts.length} record(s), but the resolver did not validate them (no AD bit): not judged`, hint: 'point dns.servers at a validating resolver on a trusted path (e.g. a local unbound) to check DANE', data: { records: texts } };
  if (!chainDer?.length) return { id: 'mx-tlsa', mx: host, title, status: 'fail', detail: `${texts.length} DNSSEC-validated record(s), but no certificate to match (see the STARTTLS step)`, hint: 'with DANE, senders will not deliver without STARTTLS (RFC 7672 §2.2)', data: { records: texts } };
  const usable = t.records.filter((r) => r.usage === 2 || r.usage === 3);
  const matching = usable.filter((r) => tlsaMatches(r, chainDer));
  if (matching.length) return { id: 'mx-tlsa', mx: host, title, status: 'pass', detail: `${matching.length} of ${texts.length} record(s) match the certificate: ${matching.map(tlsaText).join(', ')}`, data: { records: texts } };
  return { id: 'mx-tlsa', mx: host, title, status: 'fail', detail: `none of ${texts.length} DNSSEC-validated record(s) matches the certificate${usable.length < t.records.length ? ' (usages 0 and 1 are not used for SMTP, RFC 7672 §3.1.3)' : ''}`, hint: 'publish a TLSA record for the current certificate or key (e.g. 3 1 1 <sha256 of the SPKI>) before rolling certificates; senders report tlsa-invalid', data: { records: texts } };
}
