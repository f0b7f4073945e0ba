/**
 * @module analysis/alerts/notify — where alerts go: a webhook (JSON POST over HTTPS, signed
 * with HMAC-SHA256 over `<timestamp>.<body>` so the receiver can check origin and freshness) and
 * e-mail through the relay (any nodemailer-like transport, injected). Failures are returned, not
 * thrown: an unreachable webhook must not stop evaluation.
 */
import { createHmac } from 'node:crypto';
import https from 'node:https';
import tls from 'node:tls';
import type { StoredAlert } from './engine.js';

export interface MailTransport {
  sendMail(message: { from: string; to: string[]; subject: string; text: string; headers?: Record<string, string> }): Promise<unknown>;
}

export interface Notifier {
  webhook?(alerts: StoredAlert[]): Promise<string | undefined>;
  email?(subject: string, text: string): Promise<string | undefined>;
}

/** `t=<unix>,sha256=<hex>` — the value of `X-Tlsrpt-Signature`. */
export function signWebhook(secret: string, timestamp: number, body: string): string {
  return `t=${timestamp},sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export function webhookNotifier(o: { url: string; secret: string; ca?: string; timeoutMs?: number; now?: () => number }): NonNullable<Notifier['webhook']> {
  return (alerts) => new Promise((resolve) => {
    const body = JSON.stringify({ source: 'tlsrpt-hub', alerts });
    const ts = Math.floor((o.now ?? Date.now)() / 1000);
    const req = https.request(o.url, {
      method: 'POST', timeout: o.timeoutMs ?? 10_000,
      ...(o.ca ? { ca: [...tls.rootCertificates, o.ca] } : {}),
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-tlsrpt-signature': signWebhook(o.secret, ts, body), 'user-agent': 'tlsrpt-hub alerts' },
    }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode && res.statusCode < 300 ? undefined : `webhook answered HTTP ${res.statusCode}`));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', (e) => resolve(`webhook ${o.url} failed: ${e.message}`));
    req.end(body);
  });
}

export function emailNotifier(o: { transport: MailTransport; from: string; to: string[] }): NonNullable<Notifier['email']> {
  return async (subject, text) => {
    try {
      // Alerts say that TLS to our MX is broken: never make their own delivery depend on it (RFC 8689).
      await o.transport.sendMail({ from: o.from, to: o.to, subject: subject.replace(/[\r\n]+/g, ' '), text, headers: { 'TLS-Required': 'No', 'Auto-Submitted': 'auto-generated' } });
      return undefined;
    } catch (e) {
      return `alert e-mail to ${o.to.join(', ')} failed: ${(e as Error).message}`;
    }
  };
}

/** The plain-text body of an alert or a digest. */
export function alertText(alerts: StoredAlert[]): string {
  return alerts.map((a) => `[${a.severity}] ${a.title}\n  rule ${a.rule}, ${a.createdAt}${Object.entries(a.detail).map(([k, v]) => `\n  ${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`).join('')}`).join('\n\n') + '\n';
}
