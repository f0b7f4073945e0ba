/**
 * @module sending/report/headers — the boundary check for every value that reaches a header
 * of a report mail or the SMTP envelope. Values come from expressions (settings), from the
 * MTA's events and from receivers' DNS records; none may carry CR, LF or NUL (header
 * injection) or otherwise break the field it goes into. Checked where the value enters the
 * message, never trusted further in.
 */

export class HeaderValueError extends Error {
  override name = 'HeaderValueError';
  constructor(readonly field: string, message: string) {
    super(`${field}: ${message}`);
  }
}

const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f]/;
const FORBIDDEN_DESC = 'contains CR, LF, NUL or another control character';

/** Free text for a header (Subject, From display name). Tabs are allowed; other controls are not. */
export function headerText(field: string, value: unknown, maxLength = 998): string {
  if (typeof value !== 'string') throw new HeaderValueError(field, `expected text, got ${typeof value}`);
  if (CONTROL.test(value)) throw new HeaderValueError(field, FORBIDDEN_DESC);
  if (value.length > maxLength) throw new HeaderValueError(field, `longer than ${maxLength} characters`);
  return value;
}

// A DNS name in A-labels (RFC 8460 §4.4: policy-domain in A-labels). Underscores are allowed
// because real hostnames carry them; nothing that could end a header field or an address is.
const DOMAIN = /^(?=.{1,253}$)([a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)(\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*$/i;

/** A domain name (TLS-Report-Domain, TLS-Report-Submitter, DKIM d=, Message-ID right side). */
export function headerDomain(field: string, value: unknown): string {
  const v = headerText(field, value, 253).trim().replace(/\.$/, '');
  if (!DOMAIN.test(v)) throw new HeaderValueError(field, `not a domain name: ${JSON.stringify(v.slice(0, 80))}`);
  return v.toLowerCase();
}

// RFC 5321 mailbox, conservatively: a dot-atom local part (no quoted strings: nobody needs them
// for report addresses and they are where parsers disagree) and a domain name.
const LOCAL = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;

/** An e-mail address for From, To and the SMTP envelope (MAIL FROM / RCPT TO). */
export function headerAddress(field: string, value: unknown): string {
  const v = headerText(field, value, 254).trim();
  const at = v.lastIndexOf('@');
  if (at <= 0 || at > 64) throw new HeaderValueError(field, `not an e-mail address: ${JSON.stringify(v.slice(0, 80))}`);
  const local = v.slice(0, at);
  const domain = v.slice(at + 1);
  if (!LOCAL.test(local)) throw new HeaderValueError(field, `not an e-mail address: ${JSON.stringify(v.slice(0, 80))}`);
  return `${local}@${headerDomain(field, domain)}`;
}
