/**
 * @module settings/sections/relay — `relay`: the SMTP server report mail is submitted to
 * (RFC 8460 §5.3 mail delivery).
 */
import { z } from 'zod';
import { filePath, positiveInt, type SectionSpec } from './common.js';

export const RelaySection = z.strictObject({
  host: z.string().min(1).describe('the relay, e.g. smtp.example.org').optional(),
  /** Report mail through the local MTA instead (issue 12), as sys4's reporter does. */
  sendmail: z.string().min(1).describe('the local MTA\'s command line, e.g. "/usr/sbin/sendmail -i -t"').optional(),
  port: z.number().int().min(1).max(65535).default(587),
  /** Implicit TLS (port 465). Otherwise STARTTLS is used when offered, or always with requireTLS. */
  secure: z.boolean().default(false),
  requireTLS: z.boolean().optional().describe('refuse to send without STARTTLS'),
  user: z.string().optional().describe('login at the relay'),
  password: z.string().optional(),
  /** Issue 10: with credentials, TLS is required unless allowPlaintextAuth. */
  allowPlaintextAuth: z.boolean().default(false).describe('send the login over an unencrypted connection'),
  /** Accept the relay's certificate without validation (self-signed relay on a private network). */
  tlsInsecure: z.boolean().optional(),
  caFile: filePath("the relay's CA certificate (PEM)").optional(),
  /** PEM of the relay's CA (instead of caFile). */
  ca: z.string().optional(),
  connectionTimeoutMs: positiveInt.optional(),
  socketTimeoutMs: positiveInt.optional(),
  /** Pooled connections (used by bulk sends); default 1 connection per send. */
  maxConnections: positiveInt.optional(),
}).superRefine((r, ctx) => {
  if (!r.host && !r.sendmail) ctx.addIssue({ code: 'custom', path: ['host'], message: 'missing: this key is required — the relay, e.g. smtp.example.org (or "sendmail": "/usr/sbin/sendmail -i -t")' });
});
export type RelaySection = z.infer<typeof RelaySection>;

export const relay = { schema: RelaySection.optional(), paths: ['caFile'] } satisfies SectionSpec;
