/** @module rfc8460/naming — the report file name (RFC 8460 §5.1) and e-mail subject (§5.3) */
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
 * so other characters are removed from it.
 * @example reportFileName({ submitter: 'mail.example.com', policyDomain: 'example.net', beginUnix: 1013662812, endUnix: 1013749130, gzip: true })
 * // 'mail.example.com!example.net!1013662812!1013749130.json.gz'
 */
export function reportFileName(a: { submitter: string; policyDomain: string; beginUnix: number; endUnix: number; uniqueId?: string; gzip: boolean }): string {
  const unique = a.uniqueId === undefined ? '' : a.uniqueId.replace(/[^A-Za-z0-9]/g, '');
  const parts = [domainPart(a.submitter), domainPart(a.policyDomain), String(Math.floor(a.beginUnix)), String(Math.floor(a.endUnix))];
  if (unique !== '') parts.push(unique);
  return parts.join('!') + (a.gzip ? '.json.gz' : '.json');
}

/**
 * RFC 8460 §5.3 subject: `Report Domain: <policy-domain> Submitter: <submitter> Report-ID: <<id>>`.
 * The Report-ID is written in angle brackets like a Message-ID; one without `@` gets
 * `@<submitter>` appended, as in the RFC's example `<735ff.e317+bf22029@example.net>`.
 * @example reportSubject({ policyDomain: 'example.net', submitter: 'mail.example.com', reportId: 'abc@mail.example.com' })
 * // 'Report Domain: example.net Submitter: mail.example.com Report-ID: <abc@mail.example.com>'
 */
export function reportSubject(a: { policyDomain: string; submitter: string; reportId: string }): string {
  const submitter = stripControls(a.submitter);
  let id = stripControls(a.reportId).replace(/^<|>$/g, '');
  if (!id.includes('@')) id = `${id}@${submitter}`;
  return `Report Domain: ${stripControls(a.policyDomain)} Submitter: ${submitter} Report-ID: <${id}>`;
}
