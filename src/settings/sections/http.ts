/**
 * @module settings/sections/http — `http`: the API, the public report endpoint (RFC 8460 §5.4)
 * and the admin token.
 */
import { z } from 'zod';
import { hostPort, positiveInt, TlsFiles, type SectionSpec } from './common.js';

/**
 * `http` keys of issue 10 (Trust): what one stranger may cost the public report endpoint
 * (RFC 8460 §5.4 is unauthenticated) and the HTTP server's time and connection limits.
 */
export const HTTP_TRUST_DEFAULTS = {
  /** POST /tlsrpt body as sent (gzip or JSON), bytes. */
  reportMaxBodyBytes: 1048576,
  /** POST /tlsrpt report after decompression, bytes (also capped by ReportSettings.inboundReportMaxSize). */
  reportMaxInflatedBytes: 10485760,
  /** POST /tlsrpt body bytes per client (an IPv6 client is its /64) and minute. */
  reportBytesPerMinute: 4194304,
  /** Whole request (headers and body), ms. */
  requestTimeoutMs: 30000,
  /** Request headers, ms. */
  headersTimeoutMs: 10000,
  /** Open connections in total, and per client address. */
  maxConnections: 1000,
  maxConnectionsPerClient: 50,
} as const;

export const HttpSection = z.strictObject({
  listen: hostPort.default('127.0.0.1:8080').describe('address the HTTP server listens on'),
  token: z.string().min(16, 'the admin token must have at least 16 characters').optional().describe('the admin bearer token for /api/*'),
  reportPath: z.string().startsWith('/', 'expected a path starting with /').default('/tlsrpt').describe('path of the public report endpoint'),
  tls: TlsFiles.optional().describe('serve HTTPS with this certificate'),
  maxBodyBytes: positiveInt.default(26214400).describe('largest request body'),
  reportRatePerMinute: positiveInt.default(60).describe('reports per client and minute on the public endpoint'),
  trustProxy: z.boolean().default(false).describe('key clients by X-Forwarded-For (only behind your own proxy)'),
  reportMaxBodyBytes: positiveInt.default(HTTP_TRUST_DEFAULTS.reportMaxBodyBytes).describe('largest POST body on the public report endpoint, as sent (gzip or JSON)'),
  reportMaxInflatedBytes: positiveInt.default(HTTP_TRUST_DEFAULTS.reportMaxInflatedBytes).describe('largest report on the public endpoint after decompression'),
  reportBytesPerMinute: positiveInt.default(HTTP_TRUST_DEFAULTS.reportBytesPerMinute).describe('report body bytes per client (IPv6: per /64) and minute'),
  requestTimeoutMs: positiveInt.default(HTTP_TRUST_DEFAULTS.requestTimeoutMs).describe('time for a whole request (headers and body)'),
  headersTimeoutMs: positiveInt.default(HTTP_TRUST_DEFAULTS.headersTimeoutMs).describe('time for the request headers'),
  maxConnections: positiveInt.default(HTTP_TRUST_DEFAULTS.maxConnections).describe('open connections in total'),
  maxConnectionsPerClient: positiveInt.default(HTTP_TRUST_DEFAULTS.maxConnectionsPerClient).describe('open connections per client address'),
}).prefault({});
export type HttpSection = z.infer<typeof HttpSection>;

export const http = { schema: HttpSection, paths: ['tls.cert', 'tls.key'] } satisfies SectionSpec;
