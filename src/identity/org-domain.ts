/**
 * @module identity/org-domain — organisational domains (public suffix + one label) and the
 * reporter identity of a report, used for de-duplication and per-reporter views.
 *
 * The public suffix list comes from `tldts` (mailauth's own copy, loaded through mailauth so
 * there is one version). Should it not load, a compact built-in list of common multi-label
 * suffixes is used instead: it knows co.uk, com.au and the like, but not every private or
 * rare suffix — names under an unknown multi-label suffix then come out one label too short.
 */
import { createRequire } from 'node:module';
import type { TlsReport } from '../rfc8460/types.js';

type GetDomain = (name: string, opts?: object) => string | null;
const TLDTS_OPTS = { allowIcannDomains: true, allowPrivateDomains: true };

function loadTldts(): GetDomain | undefined {
  try {
    const req = createRequire(import.meta.resolve('mailauth/lib/tools.js'));
    return (req('tldts') as { getDomain: GetDomain }).getDomain;
  } catch {
    return undefined;
  }
}

// Loaded at the first look-up: the list costs ~7 MiB of memory, which a collector that never
// receives a report need not carry (issue 12).
let tldts: { getDomain: GetDomain | undefined } | undefined;

/** Fallback: second-level suffixes under which registrations happen one label further down. */
const MULTI_LABEL_SUFFIXES = new Set(
  (
    'co.uk org.uk ac.uk gov.uk ltd.uk plc.uk me.uk net.uk sch.uk nhs.uk police.uk ' +
    'com.au net.au org.au edu.au gov.au asn.au id.au co.nz net.nz org.nz govt.nz ac.nz ' +
    'co.jp ne.jp or.jp ac.jp go.jp ad.jp ed.jp gr.jp lg.jp co.kr or.kr ne.kr go.kr ac.kr ' +
    'com.br net.br org.br gov.br edu.br com.cn net.cn org.cn gov.cn edu.cn ac.cn ' +
    'com.hk net.hk org.hk edu.hk gov.hk com.tw net.tw org.tw edu.tw gov.tw com.sg net.sg org.sg edu.sg gov.sg ' +
    'co.in net.in org.in firm.in gen.in ind.in ac.in edu.in gov.in co.za org.za net.za gov.za ac.za ' +
    'com.mx net.mx org.mx gob.mx edu.mx com.ar net.ar org.ar gob.ar com.tr net.tr org.tr gov.tr edu.tr ' +
    'com.ru net.ru org.ru msk.ru spb.ru com.ua net.ua org.ua gov.ua in.ua kiev.ua com.pl net.pl org.pl ' +
    'co.il org.il ac.il gov.il com.my net.my org.my gov.my edu.my co.th in.th ac.th go.th or.th ' +
    'com.vn net.vn org.vn gov.vn edu.vn co.id or.id ac.id go.id web.id com.ph net.ph org.ph gov.ph ' +
    'com.sa net.sa org.sa gov.sa edu.sa com.eg gov.eg edu.eg com.ng gov.ng edu.ng co.ke or.ke ac.ke ' +
    'com.co net.co org.co gov.co edu.co com.pe gob.pe com.ve com.uy com.ec com.pk gov.pk edu.pk ' +
    'github.io gitlab.io herokuapp.com appspot.com blogspot.com cloudfront.net azurewebsites.net'
  ).split(/\s+/),
);

/** The built-in fallback (used when tldts cannot load); exported for tests. */
export function fallbackOrgDomain(n: string): string {
  const labels = n.split('.');
  if (labels.length <= 2) return n;
  const last2 = labels.slice(-2).join('.');
  return MULTI_LABEL_SUFFIXES.has(last2) ? labels.slice(-3).join('.') : last2;
}

/**
 * The organisational domain of a host name, lower-cased; the name itself when it has no
 * public suffix (`localhost`, an IP).
 * @example organizationalDomain('mx1.corp.mail.ru') // 'mail.ru'
 */
export function organizationalDomain(name: string): string {
  const n = name.trim().replace(/\.$/, '').toLowerCase();
  if (!n) return n;
  const tldtsGetDomain = (tldts ??= { getDomain: loadTldts() }).getDomain;
  if (tldtsGetDomain) return (tldtsGetDomain(n, TLDTS_OPTS) ?? n).toLowerCase();
  return fallbackOrgDomain(n);
}

/** The domain named by a `contact-info`: of an e-mail address, of a URL's host, or the text itself when a domain. */
export function domainOfContactInfo(contactInfo: string | undefined): string | undefined {
  const text = contactInfo?.trim();
  if (!text) return undefined;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    try {
      return new URL(text).hostname.toLowerCase() || undefined;
    } catch {
      return undefined;
    }
  }
  const at = text.replace(/^mailto:/i, '').split(/[\s,;<>]+/).find((w) => w.includes('@'));
  if (at) return at.split('@').pop()!.replace(/[>.]+$/, '').toLowerCase() || undefined;
  return /^[a-z0-9-]+(\.[a-z0-9-]+)+\.?$/i.test(text) ? text.replace(/\.$/, '').toLowerCase() : undefined;
}

/**
 * Who sent a report, for de-duplication (quirks.md): taken from the report JSON itself, never
 * from the channel — the organisational domain of `contact-info`, else `organization-name`.
 * @example reporterOf({ contactInfo: 'smtp-tls-reporting@google.com', organizationName: 'Google Inc.', … }) // 'google.com'
 */
export function reporterOf(report: Pick<TlsReport, 'contactInfo' | 'organizationName'>): string {
  const domain = domainOfContactInfo(report.contactInfo);
  if (domain) return organizationalDomain(domain);
  const name = report.organizationName?.trim().toLowerCase();
  return name || '(unknown)';
}
