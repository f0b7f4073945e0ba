/** @module rfc8460/naming — the report file name (RFC 8460 §5.1), e-mail subject (§5.3) and the submitter domain of a contact-info */
import { normalizeDomain } from '../common/domain.js';

function stripControls(s: string): string {
  // Header values enter here: CR/LF or other controls would let a value inject header lines.
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out += c < 32 || c === 127 ? ' ' : s[i];
  }
  return out.replace(/ {2,}/g, ' ').trim();
}

function domainPart(s: string): string {
  // A domain in the file name: lower-case, no trailing dot, and no `!` (the separator) or `/`.
  return normalizeDomain(s).replace(/[!/\\\s]/g, '');
}

/**
 * RFC 8460 §5.1: `sender "!" policy-domain "!" begin-timestamp "!" end-timestamp
 * [ "!" unique-id ] "." extension`, extension `json` or `json.gz`; unique-id is 1*(ALPHA / DIGIT),
 * so other characters are removed from it. `sender` is the domain of the report's contact-info
 * (§5.1: "the domain of the contact-info"), the same as `TLS-Report-Submitter`. The grammar's
 * "policy-domain" is the domain the report is for — the report domain that published the
 * TLSRPT record (§4.4), which a DANE policy's own policy-domain (the MX host) is not.
 * @example reportFileName({ submitter: 'example.com', reportDomain: 'example.net', beginUnix: 1013662812, endUnix: 1013749130, gzip: true })
 * // 'example.com!example.net!1013662812!1013749130.json.gz'
 */
export function reportFileName(a: { submitter: string; reportDomain: string; beginUnix: number; endUnix: number; uniqueId?: string; gzip: boolean }): string {
  const unique = a.uniqueId === undefined ? '' : a.uniqueId.replace(/[^A-Za-z0-9]/g, '');
  const parts = [domainPart(a.submitter), domainPart(a.reportDomain), String(Math.floor(a.beginUnix)), String(Math.floor(a.endUnix))];
  if (unique !== '') parts.push(unique);
  return parts.join('!') + (a.gzip ? '.json.gz' : '.json');
}

/**
 * RFC 8460 §5.3 subject: `Report Domain: <domain> Submitter: <submitter> Report-ID: <<id>>`.
 * The Report-ID is written in angle brackets like a Message-ID; one without `@` gets
 * `@<submitter>` appended, as in the RFC's example `<735ff.e317+bf22029@example.net>`.
 * @example reportSubject({ reportDomain: 'example.net', submitter: 'mail.example.com', reportId: 'abc@mail.example.com' })
 * // 'Report Domain: example.net Submitter: mail.example.com Report-ID: <abc@mail.example.com>'
 */
export function reportSubject(a: { reportDomain: string; submitter: string; reportId: string }): string {
  const submitter = stripControls(a.submitter);
  let id = stripControls(a.reportId).replace(/^<|>$/g, '');
  if (!id.includes('@')) id = `${id}@${submitter}`;
  return `Report Domain: ${stripControls(a.reportDomain)} Submitter: ${submitter} Report-ID: <${id}>`;
}

/**
 * The domain of a report's contact-info (RFC 8460 §5.1/§5.3: file name sender and
 * `TLS-Report-Submitter`): the part after `@` of an e-mail address (with or without `mailto:`),
 * the host of a URI, or the value itself when it is a bare domain; undefined otherwise.
 * @example contactInfoDomain('tls-reports@Example.com') // 'example.com'
 * @example contactInfoDomain('https://tls.example.org/contact') // 'tls.example.org'
 */
export function contactInfoDomain(contactInfo: string): string | undefined {
  const v = contactInfo.trim();
  let d: string;
  const at = v.lastIndexOf('@');
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(v)) {
    try {
      d = new URL(v).hostname;
    } catch {
      return undefined;
    }
  } else if (at >= 0) d = v.slice(at + 1);
  else d = v.replace(/^mailto:/i, '');
  d = d.replace(/[>\s].*$/, '').toLowerCase().replace(/\.$/, '');
  return /^[a-z0-9_-]+(\.[a-z0-9_-]+)+$/.test(d) ? d : undefined;
}
