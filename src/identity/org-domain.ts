/**
 * @module identity/org-domain — organisational domains (public suffix + one label, from the
 * Public Suffix List through `tldts`) and the reporter identity of a report, used for DKIM
 * alignment, de-duplication and per-reporter views. One definition for receiving and analysis.
 */
import { getDomain } from 'tldts';
import type { TlsReport } from '../rfc8460/types.js';
import { normalizeDomain } from '../common/domain.js';

// Private suffixes too (github.io, blogspot.com): their registrants are separate organisations.
const TLDTS_OPTS = { allowIcannDomains: true, allowPrivateDomains: true };

/**
 * The organisational domain of a host name, lower-cased; the name itself when it has no
 * public suffix (`localhost`, an IP).
 * @example organizationalDomain('mx1.corp.mail.ru') // 'mail.ru'
 */
export function organizationalDomain(name: string): string {
  const n = normalizeDomain(name);
  if (!n) return n;
  return (getDomain(n, TLDTS_OPTS) ?? n).toLowerCase();
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
  return /^[a-z0-9-]+(\.[a-z0-9-]+)+\.?$/i.test(text) ? normalizeDomain(text) : undefined;
}

/**
 * Who sent a report, for de-duplication (docs/spec/quirks.md): taken from the report JSON itself, never
 * from the channel — the organisational domain of `contact-info`, else `organization-name`.
 * @example reporterOf({ contactInfo: 'smtp-tls-reporting@google.com', organizationName: 'Google Inc.', … }) // 'google.com'
 */
export function reporterOf(report: Pick<TlsReport, 'contactInfo' | 'organizationName'>): string {
  const domain = domainOfContactInfo(report.contactInfo);
  if (domain) return organizationalDomain(domain);
  const name = report.organizationName?.trim().toLowerCase();
  return name || '(unknown)';
}
