/**
 * @module check/tlsa — DANE for SMTP (RFC 7672): does any TLSA record at `_25._tcp.<mx>` match
 * the certificate chain the MX presented? Usage 3 (DANE-EE) matches the leaf, usage 2 (DANE-TA)
 * any certificate of the chain; selector 0 the whole certificate, 1 its SubjectPublicKeyInfo;
 * matching type 0 exact, 1 SHA-256, 2 SHA-512 (RFC 6698 §2.1). Usages 0 and 1 are not for SMTP
 * (RFC 7672 §3.1.3).
 */
import { createHash, X509Certificate } from 'node:crypto';
import type { TlsaAnswer } from './types.js';

type TlsaRecord = TlsaAnswer['records'][number];

function selected(der: Buffer, selector: number): Buffer | undefined {
  if (selector === 0) return der;
  if (selector === 1) return new X509Certificate(der).publicKey.export({ type: 'spki', format: 'der' }) as Buffer;
  return undefined;
}

function digest(data: Buffer, matchingType: number): Buffer | undefined {
  if (matchingType === 0) return data;
  if (matchingType === 1) return createHash('sha256').update(data).digest();
  if (matchingType === 2) return createHash('sha512').update(data).digest();
  return undefined;
}

/** The record matches the chain (leaf first). */
export function tlsaMatches(record: TlsaRecord, chainDer: Buffer[]): boolean {
  const candidates = record.usage === 3 ? chainDer.slice(0, 1) : record.usage === 2 ? chainDer : [];
  return candidates.some((der) => {
    const sel = selected(der, record.selector);
    const d = sel && digest(sel, record.matchingType);
    return Boolean(d && d.equals(Buffer.from(record.certificate)));
  });
}

/** The `usage selector matching HEX` text RFC 8460 §4.4 puts in a tlsa policy-string. */
export function tlsaText(r: TlsaRecord): string {
  return `${r.usage} ${r.selector} ${r.matchingType} ${Buffer.from(r.certificate).toString('hex').toUpperCase()}`;
}
