/**
 * @module check/tlsrpt-record — the TLSRPT record step of `tlsrpt check`: exactly one
 * `v=TLSRPTv1` TXT record at `_smtp._tls.<domain>` that parses (RFC 8460 §3), and each rua
 * usable: a mailto: whose domain can receive mail (MX, or an address as implicit MX, RFC 5321
 * §5.1), an https: URL with a host. Unknown schemes are ignored by senders (RFC 8460 §3): a warning.
 */
import { selectTlsrptRecord } from '../rfc8460/record.js';
import type { CheckStep, ResolvedDeps } from './types.js';
import { dnsFailure, mxHosts } from './dns.js';

export async function checkTlsrptRecord(domain: string, deps: ResolvedDeps): Promise<CheckStep[]> {
  const name = `_smtp._tls.${domain}`;
  const title = `TLSRPT record at ${name}`;
  let records: string[][];
  try {
    records = (await deps.resolver.resolveTxt(name)).records;
  } catch (e) {
    return [dnsFailure('tlsrpt-record', title, name, e)];
  }
  const texts = records.map((r) => r.join(''));
  const result = selectTlsrptRecord(records);
  if (!result.ok) {
    const count = texts.filter((t) => /^v=TLSRPTv1(?:$|[;\t ])/.test(t)).length;
    const hint = count > 1
      ? `remove all but one v=TLSRPTv1 TXT record at ${name}: with ${count}, senders treat the domain as having no TLSRPT policy (RFC 8460 §3)`
      : count === 0
        ? `publish a TXT record at ${name}, e.g. "v=TLSRPTv1; rua=mailto:tlsrpt@${domain}"`
        : `fix the record's syntax: "v=TLSRPTv1; rua=mailto:…" (URIs comma-separated, "," "!" ";" percent-encoded inside a URI)`;
    return [{ id: 'tlsrpt-record', title, status: 'fail', detail: `${result.reason}${texts.length ? `; found: ${texts.map((t) => JSON.stringify(t)).join(', ')}` : ''}`, hint, data: { records: texts } }];
  }
  const record = texts.find((t) => /^v=TLSRPTv1(?:$|[;\t ])/.test(t))!;
  const steps: CheckStep[] = [{ id: 'tlsrpt-record', title, status: 'pass', detail: record, data: { record, rua: result.rua.map((r) => r.uri) } }];
  for (const ignored of result.ignored) {
    steps.push({ id: 'tlsrpt-rua', title: `rua ${ignored.uri}`, status: 'warn', detail: `ignored by senders: ${ignored.reason}`, hint: 'use mailto: or https: URIs only (RFC 8460 §3)' });
  }
  await Promise.all(result.rua.map(async (target) => {
    const stepTitle = `rua ${target.uri}`;
    if (target.scheme === 'https') {
      let url: URL | undefined;
      try { url = new URL(target.url); } catch { /* reported below */ }
      steps.push(url && url.hostname
        ? { id: 'tlsrpt-rua', title: stepTitle, status: 'pass', detail: `reports are POSTed to ${url.href} (RFC 8460 §5.4)` }
        : { id: 'tlsrpt-rua', title: stepTitle, status: 'fail', detail: 'not a usable https URL', hint: 'write a full URL, e.g. https://tlsrpt.example.org/tlsrpt' });
      return;
    }
    const at = target.address.lastIndexOf('@');
    const mailDomain = at > 0 ? target.address.slice(at + 1).toLowerCase() : '';
    if (!mailDomain) {
      steps.push({ id: 'tlsrpt-rua', title: stepTitle, status: 'fail', detail: `${JSON.stringify(target.address)} is not an e-mail address`, hint: 'write mailto:local@domain' });
      return;
    }
    try {
      const mx = await mxHosts(mailDomain, deps);
      const addresses = mx.length ? [] : await deps.resolver.resolveAddresses(mailDomain);
      if (mx.length || addresses.length) {
        steps.push({ id: 'tlsrpt-rua', title: stepTitle, status: 'pass', detail: `${mailDomain} receives mail (${mx.length ? `MX ${mx.join(', ')}` : `implicit MX ${addresses[0]}`})` });
      } else {
        steps.push({ id: 'tlsrpt-rua', title: stepTitle, status: 'fail', detail: `${mailDomain} has no MX and no address: reports cannot be delivered`, hint: `publish an MX record for ${mailDomain}, or point rua at a mailbox that exists` });
      }
    } catch (e) {
      steps.push(dnsFailure('tlsrpt-rua', stepTitle, mailDomain, e));
    }
  }));
  return steps;
}
