/**
 * @module settings/sections/http — `http`: the API, the public report endpoint (RFC 8460 §5.4)
 * and the admin token.
 */
import { z } from 'zod';
import { hostPort, positiveInt, TlsFiles, type SectionSpec } from './common.js';

export const HttpSection = z.strictObject({
  listen: hostPort.default('127.0.0.1:8080').describe('address the HTTP server listens on'),
  token: z.string().min(16, 'the admin token must have at least 16 characters').optional().describe('the admin bearer token for /api/*'),
  reportPath: z.string().startsWith('/', 'expected a path starting with /').default('/tlsrpt').describe('path of the public report endpoint'),
  tls: TlsFiles.optional().describe('serve HTTPS with this certificate'),
  maxBodyBytes: positiveInt.default(26214400).describe('largest request body'),
  reportRatePerMinute: positiveInt.default(60).describe('reports per client and minute on the public endpoint'),
  trustProxy: z.boolean().default(false).describe('key clients by X-Forwarded-For (only behind your own proxy)'),
}).prefault({});
export type HttpSection = z.infer<typeof HttpSection>;

export const http = { schema: HttpSection, paths: ['tls.cert', 'tls.key'] } satisfies SectionSpec;
