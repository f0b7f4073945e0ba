/**
 * @module check/https-get — one HTTPS GET the way an MTA-STS sender makes it (RFC 8461 §3.3):
 * to the resolved address with SNI and Host the policy host's name, no redirects followed, the
 * body read up to a limit, and the server certificate judged (chain against the trusted CAs,
 * name, expiry against the injected clock) rather than refused, so the check can say why.
 */
import https from 'node:https';
import tls, { type PeerCertificate } from 'node:tls';
import { judgeCertificate, type CertificateVerdict } from './certificate.js';

export interface HttpsGetResult {
  status: number;
  contentType: string;
  body: Buffer;
  /** The body was longer than the limit (reading stopped there). */
  oversized: boolean;
  location?: string;
  certificate: CertificateVerdict;
}

export interface HttpsGetOptions {
  host: string;
  address: string;
  port: number;
  path: string;
  maxBytes: number;
  timeoutMs: number;
  ca?: string[];
  now: number;
}

export function trustedCas(extra?: string[]): string[] | undefined {
  return extra?.length ? [...tls.rootCertificates, ...extra] : undefined;
}

export function httpsGet(o: HttpsGetOptions): Promise<HttpsGetResult> {
  return new Promise((resolve, reject) => {
    const req = https.request({
      host: o.address, port: o.port, path: o.path, method: 'GET', servername: o.host, agent: false,
      headers: { host: o.port === 443 ? o.host : `${o.host}:${o.port}`, 'user-agent': 'tlsrpt-hub check' },
      ca: trustedCas(o.ca), rejectUnauthorized: false, timeout: o.timeoutMs,
    }, (res) => {
      const socket = res.socket as tls.TLSSocket;
      const certificate = judgeCertificate(socket, o.host, o.now);
      const chunks: Buffer[] = [];
      let size = 0;
      let oversized = false;
      const finish = () => resolve({
        status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), body: Buffer.concat(chunks),
        oversized, location: res.headers.location, certificate,
      });
      res.on('data', (c: Buffer) => {
        if (oversized) return;
        size += c.length;
        if (size > o.maxBytes) {
          oversized = true;
          finish();
          req.destroy();
          return;
        }
        chunks.push(c);
      });
      res.on('end', finish);
      res.on('error', (e) => (oversized ? undefined : reject(e)));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${o.timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

export type { PeerCertificate };
