/**
 * @module sending/deliver/https — RFC 8460 §5.4 delivery: POST the gzip report to an `https:`
 * rua with `Content-Type: application/tlsrpt+gzip`. Uses node:https (global fetch on Node 20
 * cannot take a CA per request). The host is resolved and SSRF-checked once by us and the
 * connection is pinned to the checked address; SNI, Host and certificate checks use the name.
 * Redirects are never followed.
 */
import { request } from 'node:https';
import { rootCertificates } from 'node:tls';
import { isIP } from 'node:net';
import type { Logger } from '../../common/log.js';
import { checkTargetHost, TargetRefusedError, type AddressLookup } from './ssrf.js';
import { classifyHttpStatus, oneLine, type AttemptOutcome } from './retry.js';

export interface HttpsDeliveryOptions {
  lookup: AddressLookup;
  allowPrivateTargets: boolean;
  /** PEM of extra trusted CAs, added to Node's default roots (delivery.extraCaFile). */
  extraCa?: string;
  connectTimeoutMs?: number;
  totalTimeoutMs?: number;
  userAgent?: string;
  log: Logger;
}

/** Builds the CA list once: Node's bundled roots plus the configured extra CA. */
export function trustedCas(extraCa?: string): string[] | undefined {
  return extraCa ? [...rootCertificates, extraCa] : undefined;
}

/**
 * POSTs `body` (gzip) to `url`. Never throws: the outcome says sent / temporary / permanent.
 * A refused target (SSRF) is permanent: the address will not become public by waiting.
 */
export async function postReport(url: string, body: Uint8Array, opts: HttpsDeliveryOptions): Promise<AttemptOutcome> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return { kind: 'permanent', error: `not a valid URL: ${oneLine(url)}` };
  }
  if (u.protocol !== 'https:') return { kind: 'permanent', error: `not an https URL: ${oneLine(url)}` };
  if (u.username || u.password) return { kind: 'permanent', error: 'https rua with credentials in the URL is not used' };
  let target;
  try {
    target = await checkTargetHost(u.hostname, { lookup: opts.lookup, allowPrivateTargets: opts.allowPrivateTargets });
  } catch (e) {
    if (e instanceof TargetRefusedError) {
      opts.log.warn({ url, host: e.host, address: e.address, reason: e.message }, 'https rua refused (SSRF protection)');
      return { kind: e.message.startsWith('cannot resolve') ? 'temporary' : 'permanent', error: e.message };
    }
    throw e;
  }
  const ca = trustedCas(opts.extraCa);
  let last: AttemptOutcome = { kind: 'temporary', error: 'no address tried' };
  for (const address of target.addresses) {
    const r = await postOnce(u, target.host, address, body, ca, opts);
    if (r.kind === 'sent' || !r.connectFailed) return r.outcome;
    last = r.outcome;
  }
  return last;
}

interface OnceResult { outcome: AttemptOutcome; connectFailed?: boolean; kind?: AttemptOutcome['kind'] }

function postOnce(u: URL, host: string, address: string, body: Uint8Array, ca: string[] | undefined, opts: HttpsDeliveryOptions): Promise<OnceResult & { kind: AttemptOutcome['kind'] }> {
  const connectTimeoutMs = opts.connectTimeoutMs ?? 10_000;
  const totalTimeoutMs = opts.totalTimeoutMs ?? 60_000;
  const family = isIP(address);
  return new Promise((resolve) => {
    let done = false;
    let connected = false;
    const finish = (outcome: AttemptOutcome, connectFailed = false) => {
      if (done) return;
      done = true;
      clearTimeout(totalTimer);
      clearTimeout(connectTimer);
      resolve({ outcome, connectFailed, kind: outcome.kind });
    };
    const req = request({
      protocol: 'https:',
      hostname: host,
      port: u.port ? Number(u.port) : 443,
      path: `${u.pathname}${u.search}`,
      method: 'POST',
      // Pinning: the connection goes to the address we checked, never to a second lookup's answer.
      lookup: ((_h: string, o: { all?: boolean }, cb: (...a: unknown[]) => void) => {
        if (o?.all) cb(null, [{ address, family }]);
        else cb(null, address, family);
      }) as never,
      servername: isIP(host) ? undefined : host,
      ca,
      rejectUnauthorized: true,
      agent: false,
      headers: {
        'Content-Type': 'application/tlsrpt+gzip',
        'Content-Length': String(body.byteLength),
        'User-Agent': opts.userAgent ?? 'tlsrpt-hub',
        Host: u.host,
      },
    }, (res) => {
      const status = res.statusCode ?? 0;
      let seen = 0;
      res.on('data', (chunk: Buffer) => {
        // The answer body is not needed; stop reading a receiver that talks too much.
        seen += chunk.length;
        if (seen > 65536) res.destroy();
      });
      const settle = () => {
        const outcome = classifyHttpStatus(status, res.headers.location);
        if (outcome.kind === 'sent') finish({ kind: 'sent', detail: `HTTP ${status} from ${address}` });
        else finish(outcome);
      };
      res.on('end', settle);
      res.on('close', settle);
      res.on('error', settle);
    });
    const connectTimer = setTimeout(() => {
      if (!connected) req.destroy(Object.assign(new Error(`connect timeout after ${connectTimeoutMs} ms`), { code: 'ETIMEDOUT_CONNECT' }));
    }, connectTimeoutMs);
    const totalTimer = setTimeout(() => {
      req.destroy(Object.assign(new Error(`no answer within ${totalTimeoutMs} ms`), { code: 'ETIMEDOUT' }));
    }, totalTimeoutMs);
    req.on('socket', (s) => {
      s.once('secureConnect', () => { connected = true; });
      s.once('connect', () => { connected = true; clearTimeout(connectTimer); });
    });
    req.on('error', (e: NodeJS.ErrnoException) => {
      const certProblem = /CERT|SELF_SIGNED|UNABLE_TO|ERR_TLS|Hostname\/IP does not match/i.test(`${e.code} ${e.message}`);
      const error = `${e.code ? e.code + ': ' : ''}${oneLine(e.message)} (${address})`;
      // Certificate failures are retried: receivers fix expired certificates within a day.
      finish({ kind: 'temporary', error: certProblem ? `TLS certificate check failed: ${error}` : error }, !connected);
    });
    req.end(Buffer.from(body.buffer, body.byteOffset, body.byteLength));
  });
}
