/** @module test/sending/delivery/dkim-key — a fresh DKIM key pair and its DNS TXT record for tests. */
import { generateKeyPairSync } from 'node:crypto';
import type { DkimKey } from '../../../src/sending/deliver/mail.js';

export function dkimKeyPair(domain = 'example.com', selector = 'tlsrpt'): { key: DkimKey; dnsName: string; txt: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const p = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
  return {
    key: { domain, selector, privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string },
    dnsName: `${selector}._domainkey.${domain}`,
    txt: `v=DKIM1; k=rsa; s=tlsrpt; p=${p}`,
  };
}

/** A TXT value as 255-byte character-strings. */
export function txtStrings(s: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < s.length; i += 255) out.push(s.slice(i, i + 255));
  return out;
}

