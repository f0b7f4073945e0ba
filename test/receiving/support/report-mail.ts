/**
 * @module test/receiving/support/report-mail — builds RFC 8460 §5.3 report e-mails for tests
 * and the import benchmark: `multipart/report; report-type="tlsrpt"`, a text part and the
 * gzip-compressed report as `application/tlsrpt+gzip`, TLS-Report-* headers, optionally
 * DKIM-signed (mailauth's signer, `h=` covering the TLS-Report-* headers), and keys to serve
 * from the loopback DNS server.
 */
import { generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import DKIM from 'nodemailer/lib/dkim';

export interface DkimKey { domain: string; selector: string; privateKeyPem: string; publicKey: KeyObject; dnsName: string; txt: string }

/** An RSA key for `selector._domainkey.domain` and the TXT record publishing it (`s=` optional). */
export function makeDkimKey(domain: string, selector = 'tlsrpt', opts: { bits?: number; service?: string } = {}): DkimKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: opts.bits ?? 2048 });
  const p = (publicKey.export({ type: 'spki', format: 'der' }) as Buffer).toString('base64');
  return {
    domain, selector, publicKey,
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    dnsName: `${selector}._domainkey.${domain}`,
    txt: `v=DKIM1; k=rsa;${opts.service ? ` s=${opts.service};` : ''} p=${p}`,
  };
}

/** The TXT record as DNS strings of at most 255 bytes (a 2048-bit key does not fit one). */
export function txtStrings(txt: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < txt.length; i += 255) out.push(txt.slice(i, i + 255));
  return out;
}

export interface ReportMailOptions {
  reportJson: string | Buffer;
  policyDomain: string;
  submitter: string;
  from?: string;
  to?: string;
  reportId?: string;
  /** Attach the JSON uncompressed as application/tlsrpt+json. */
  plain?: boolean;
  /** Attach these bytes as they are (hostile-input tests), labelled application/tlsrpt+gzip unless `plain`. */
  attachment?: Buffer;
  date?: Date;
}

/** An unsigned report e-mail (CRLF line ends). */
export function buildReportMail(o: ReportMailOptions): Buffer {
  const boundary = `tlsrpt-${randomUUID()}`;
  const json = Buffer.isBuffer(o.reportJson) ? o.reportJson : Buffer.from(o.reportJson);
  const body = o.attachment ?? (o.plain ? json : gzipSync(json));
  const b64 = body.toString('base64').replace(/.{76}/g, '$&\r\n');
  const reportId = o.reportId ?? randomUUID();
  const begin = Math.floor((o.date ?? new Date()).getTime() / 1000);
  const file = `${o.submitter}!${o.policyDomain}!${begin}!${begin + 86399}.json${o.plain ? '' : '.gz'}`;
  const lines = [
    `From: ${o.from ?? `tlsrpt@${o.submitter}`}`,
    `To: ${o.to ?? `tlsrpt@${o.policyDomain}`}`,
    `Subject: Report Domain: ${o.policyDomain} Submitter: ${o.submitter} Report-ID: <${reportId}@${o.submitter}>`,
    `Date: ${(o.date ?? new Date()).toUTCString()}`,
    `Message-ID: <${randomUUID()}@${o.submitter}>`,
    `TLS-Report-Domain: ${o.policyDomain}`,
    `TLS-Report-Submitter: ${o.submitter}`,
    'TLS-Required: No',
    'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type="tlsrpt"; boundary="${boundary}"`,
    '',
    `--${boundary}`,
    'Content-Type: text/plain; charset=utf-8',
    '',
    `This is an aggregate TLS report from ${o.submitter}.`,
    '',
    `--${boundary}`,
    `Content-Type: application/tlsrpt+${o.plain ? 'json' : 'gzip'}; name="${file}"`,
    `Content-Disposition: attachment; filename="${file}"`,
    'Content-Transfer-Encoding: base64',
    '',
    b64,
    `--${boundary}--`,
    '',
  ];
  return Buffer.from(lines.join('\r\n'));
}

/**
 * Prepends a DKIM-Signature of `key` (nodemailer's signer, relaxed/relaxed, h= with the
 * TLS-Report-* headers). Not mailauth's signer: about one signature in 2,500 it makes does not
 * verify (checked independently with node:crypto), which would make tests flaky.
 */
export async function signMail(raw: Buffer, key: Pick<DkimKey, 'domain' | 'selector' | 'privateKeyPem'>): Promise<Buffer> {
  const signer = new DKIM({
    domainName: key.domain, keySelector: key.selector, privateKey: key.privateKeyPem,
    headerFieldNames: 'From:To:Subject:Date:Message-ID:TLS-Report-Domain:TLS-Report-Submitter:MIME-Version:Content-Type',
  });
  const chunks: Buffer[] = [];
  for await (const c of signer.sign(raw)) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
