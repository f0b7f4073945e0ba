/**
 * @module http/routes/report-endpoint — the public report endpoint (RFC 8460 §5.4): reporters
 * POST a report (gzip or JSON, sniffed — Content-Type is often wrong) without authentication.
 * Answers 201 on acceptance (a duplicate is accepted too: the sender must not retry it),
 * 400 with a reason for something that is not a report, 413 when the body is too large (by
 * Content-Length AND by counting streamed bytes, and after decompression), 429 when one client
 * sends too many requests or too many bytes — counted inflated (an IPv6 client is its /64), and 503 when the store
 * cannot take it now (the sender retries, RFC 8460 §5.5).
 */
import { Hono, type Context } from 'hono';
import type { Logger } from '../../common/log.js';
import type { Ingestor, IngestOutcome } from '../../receiving/index.js';
import { clientKey, createRateLimiter, type RateLimiter } from '../../common/rate-limit.js';
import { z } from 'zod';
import { describeRoute } from '../openapi.js';
import type { RequestGate } from '../server.js';

export interface ReportEndpointDeps {
  ingestor: Ingestor;
  log: Logger;
  /** `http.reportPath`, default `/tlsrpt`. */
  path?: string;
  /** `http.reportMaxBodyBytes` (default 1 MiB): the body as sent. */
  maxBodyBytes: number;
  /** `http.reportMaxInflatedBytes` (default 10 MiB): the report after decompression. */
  maxInflatedBytes?: number;
  /** `http.reportBytesPerMinute`: report bytes (as sent, or inflated when more) per client and minute (default: no byte budget). */
  bytesPerMinute?: number;
  byteLimiter?: RateLimiter;
  /** `http.reportRatePerMinute`: sustained requests per client and minute. */
  ratePerMinute: number;
  /** `http.trustProxy`: key clients by X-Forwarded-For (set by our own proxy) instead of the peer address. */
  trustProxy?: boolean;
  limiter?: RateLimiter;
  /** Clock in epoch seconds. */
  now?: () => number;
}

class BodyTooLarge extends Error {}

/** Bodies declared up to this many times the limit are read (and dropped) before the 413. */
const DRAIN_FACTOR = 4;

async function discard(stream: ReadableStream<Uint8Array> | null): Promise<void> {
  if (!stream) return;
  const reader = stream.getReader();
  try {
    for (;;) if ((await reader.read()).done) return;
  } catch {
    // the client went away: nothing to answer
  }
}

type Admission = { refused: { retryAfterSeconds: number; message: string } } | { bytesTaken: boolean };
/** What the gate already took from a request's budgets, so the route does not take it twice. */
const GATED = Symbol('report endpoint: limits taken by the gate');
interface Gated { [GATED]?: Admission }

/**
 * @example
 * app.route('/', reportEndpointRoutes({ ingestor, log, path: '/tlsrpt', maxBodyBytes: 26214400, ratePerMinute: 60 }));
 */
export function reportEndpointRoutes(deps: ReportEndpointDeps): Hono {
  return reportEndpoint(deps).routes;
}

/**
 * The routes, and a gate for the server that refuses a client over its request or byte budget
 * straight from Node's request (issue 10): a flood of refused POSTs then costs a fraction of what
 * the framework's request objects did (bench/abuse), and /healthz keeps answering.
 * @example
 * const endpoint = reportEndpoint({ ingestor, log, maxBodyBytes: 1 << 20, ratePerMinute: 60 });
 * app.route('/', endpoint.routes);
 * await listen(app, host, port, undefined, { gate: endpoint.gate });
 */
export function reportEndpoint(deps: ReportEndpointDeps): { routes: Hono; gate: RequestGate } {
  const app = new Hono();
  const path = deps.path ?? '/tlsrpt';
  const limiter = deps.limiter ?? createRateLimiter({ ratePerMinute: deps.ratePerMinute });
  // The byte budget lets one full-size body through at once, then the configured bytes per minute.
  const bytes = deps.byteLimiter ?? (deps.bytesPerMinute
    ? createRateLimiter({ ratePerMinute: deps.bytesPerMinute, burst: Math.max(deps.maxBodyBytes, Math.ceil(deps.bytesPerMinute / 6)) })
    : undefined);
  const overBudget = (c: Context, peer: string, n: number): Response | undefined => {
    const d = bytes?.take(clientKey(peer), n);
    if (!d || d.allowed) return undefined;
    c.header('Retry-After', String(d.retryAfterSeconds));
    return problem(c, 429, 'rate-limited', tooManyBytes(peer, d.retryAfterSeconds));
  };
  const now = deps.now ?? (() => Math.floor(Date.now() / 1000));
  const tooMany = (peer: string, retryAfterSeconds: number) => `too many reports from ${peer}; retry in ${retryAfterSeconds} s`;
  const tooManyBytes = (peer: string, retryAfterSeconds: number) => `too many bytes from ${clientKey(peer)} (http.reportBytesPerMinute); retry in ${retryAfterSeconds} s`;

  /**
   * The budgets one request takes before its body is read: a request, and its declared length
   * when that is within the body limit (a longer one gets 413 and costs no budget).
   */
  const admit = (peer: string, declaredLength: string | undefined): Admission => {
    const rate = limiter.take(clientKey(peer));
    if (!rate.allowed) return { refused: { retryAfterSeconds: rate.retryAfterSeconds, message: tooMany(peer, rate.retryAfterSeconds) } };
    const declared = declaredLength === undefined ? NaN : Number(declaredLength);
    if (!bytes || !Number.isFinite(declared) || declared > deps.maxBodyBytes) return { bytesTaken: false };
    const d = bytes.take(clientKey(peer), declared);
    if (!d.allowed) return { refused: { retryAfterSeconds: d.retryAfterSeconds, message: tooManyBytes(peer, d.retryAfterSeconds) } };
    return { bytesTaken: true };
  };

  const gate: RequestGate = (req, res) => {
    if (req.method !== 'POST' || (req.url ?? '').split('?')[0] !== path) return false;
    const a = admit(peerOf(req.headers['x-forwarded-for'], req.socket.remoteAddress, deps.trustProxy ?? false), req.headers['content-length']);
    if ('refused' in a) {
      // Node reads and drops the unread body once the answer is sent, keeping the connection.
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after': String(a.refused.retryAfterSeconds) });
      res.end(JSON.stringify({ accepted: false, error: { code: 'rate-limited', message: a.refused.message } }));
      return true;
    }
    (req as Gated)[GATED] = a;
    return false;
  };

  app.post(path, async (c) => {
    const peer = clientAddress(c, deps.trustProxy ?? false);
    const declared = c.req.header('content-length');
    const admitted = (c.env as { incoming?: Gated } | undefined)?.incoming?.[GATED] ?? admit(peer, declared);
    if ('refused' in admitted) {
      c.header('Retry-After', String(admitted.refused.retryAfterSeconds));
      return problem(c, 429, 'rate-limited', admitted.refused.message);
    }
    if (declared !== undefined && Number(declared) > deps.maxBodyBytes) {
      // A client still sending when we close gets EPIPE instead of our 413: a body up to a few
      // times the limit is read and dropped first (the request timeout bounds a slow one).
      if (Number(declared) <= DRAIN_FACTOR * deps.maxBodyBytes) await discard(c.req.raw.body);
      return problem(c, 413, 'too-large', `the body (${declared} bytes) exceeds the limit of ${deps.maxBodyBytes} bytes (http.reportMaxBodyBytes)`);
    }
    let body: Uint8Array;
    try {
      body = await readLimited(c.req.raw.body, deps.maxBodyBytes);
    } catch (e) {
      if (e instanceof BodyTooLarge) return problem(c, 413, 'too-large', `the body exceeds the limit of ${deps.maxBodyBytes} bytes`);
      deps.log.info({ peer, err: (e as Error).message }, 'report endpoint: body not readable');
      return problem(c, 400, 'unreadable-body', `the request body could not be read: ${(e as Error).message}`);
    }
    if (!admitted.bytesTaken) {
      const refused = overBudget(c, peer, body.byteLength);
      if (refused) return refused;
    }
    if (!body.byteLength) return problem(c, 400, 'empty-body', 'the request has no body; POST the report (application/tlsrpt+gzip or application/tlsrpt+json)');
    const outcomes = await deps.ingestor.ingest(body, {
      channel: 'http', peer, receivedAt: now(),
      ...(deps.maxInflatedBytes ? { maxDecompressedBytes: deps.maxInflatedBytes } : {}),
    });
    // The work a body causes grows with its inflated size, not its size as sent (gzip of JSON
    // is 30:1): what was inflated beyond the body is charged to the budget afterwards, so a
    // client that sent 9 MiB of report in 300 KB waits for the next minutes' budget (bench/abuse).
    const inflated = outcomes.some((o) => o.code === 'decompressed-too-large')
      ? deps.maxInflatedBytes ?? 0
      : outcomes.reduce((n, o) => Math.max(n, o.payloadBytes ?? 0), 0);
    if (bytes && inflated > body.byteLength) bytes.charge(clientKey(peer), inflated - body.byteLength);
    return answer(c, outcomes);
  });
  app.all(path, (c) => {
    c.header('Allow', 'POST');
    return problem(c, 405, 'method-not-allowed', `use POST to submit a TLS report to ${path} (RFC 8460 §5.4)`);
  });
  describeRoute('POST', path, {
    summary: 'Public report endpoint (RFC 8460 §5.4): a TLS report, gzip or JSON, no token', tags: ['receiving'], auth: 'none',
    body: z.string().describe('the report: application/tlsrpt+gzip or application/tlsrpt+json (sniffed)'), bodyContentType: 'application/tlsrpt+gzip',
    responses: { 201: 'accepted (a duplicate too: do not resend)', 400: 'not a report, with the reason', 413: 'over http.maxBodyBytes', 429: 'too many from this client', 503: 'cannot store now; retry (RFC 8460 §5.5)' },
  });
  return { routes: app, gate };
}

function answer(c: Context, outcomes: IngestOutcome[]): Response {
  const reports = outcomes.map((o) => ({ status: o.status, ...(o.id !== undefined ? { id: o.id } : {}), ...(o.reportId ? { reportId: o.reportId } : {}), ...(o.code ? { code: o.code } : {}), ...(o.reason ? { reason: o.reason } : {}) }));
  if (outcomes.some((o) => o.status === 'imported' || o.status === 'duplicate')) return c.json({ accepted: true, reports }, 201);
  if (outcomes.some((o) => o.status === 'failed')) {
    c.header('Retry-After', '60');
    return c.json({ accepted: false, error: { code: 'unavailable', message: 'the report could not be stored now; retry later' }, reports }, 503);
  }
  const first = outcomes[0];
  const status = first?.code === 'too-large' || first?.code === 'decompressed-too-large' ? 413 : 400;
  return c.json({ accepted: false, error: { code: first?.code ?? first?.status ?? 'not-a-tls-report', message: first?.reason ?? 'not a TLS report' }, reports }, status);
}

function problem(c: Context, status: 400 | 405 | 413 | 429, code: string, message: string): Response {
  return c.json({ accepted: false, error: { code, message } }, status);
}

/**
 * The client a rate limit applies to. Behind our own proxy the peer is the proxy, so the
 * right-most X-Forwarded-For entry (the one OUR proxy appended) names the client; entries to
 * its left are whatever the client claimed and are not trusted.
 */
function clientAddress(c: Context, trustProxy: boolean): string {
  const incoming = (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming;
  return peerOf(c.req.header('x-forwarded-for'), incoming?.socket?.remoteAddress, trustProxy);
}

function peerOf(xff: string | string[] | undefined, remoteAddress: string | undefined, trustProxy: boolean): string {
  if (trustProxy) {
    const last = [xff ?? []].flat().join(',').split(',').map((s) => s.trim()).filter(Boolean).pop();
    if (last) return last;
  }
  return remoteAddress?.replace(/^::ffff:/, '') ?? 'unknown';
}

/** Reads a body stream, failing as soon as more than `max` bytes arrived (a chunked body has no Content-Length). */
async function readLimited(stream: ReadableStream<Uint8Array> | null, max: number): Promise<Uint8Array> {
  if (!stream) return new Uint8Array(0);
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > max) {
      await reader.cancel().catch(() => {});
      throw new BodyTooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, total);
}
