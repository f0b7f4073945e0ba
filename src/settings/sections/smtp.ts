/**
 * @module settings/sections/smtp — `smtp`: tlsrpt-hub's own SMTP or LMTP listener for report mail,
 * with an optional onward route for everything else.
 */
import { z } from 'zod';
import { hostPort, positiveInt, TlsFiles, type SectionSpec } from './common.js';

export const SmtpOnwardSection = z.strictObject({
  host: z.string().min(1).describe('the MTA that takes mail not meant for us'),
  port: z.number().int().min(1).max(65535).default(25),
  secure: z.boolean().default(false).describe('implicit TLS'),
  tlsInsecure: z.boolean().default(false).describe("accept the onward MTA's certificate unverified"),
  /** Issue 10: required, without it the listener would relay for anyone (an open relay into the local MTA). */
  domains: z.array(z.string().min(1)).min(1, 'list the recipient domains mail may be relayed to (e.g. ["example.org"]); every other recipient gets 550 5.7.1 relaying denied').describe('recipient domains mail may be relayed to; others get 550 5.7.1 relaying denied'),
});

export const SmtpSection = z.strictObject({
  listen: hostPort.describe('address of the SMTP/LMTP listener, e.g. 0.0.0.0:25'),
  lmtp: z.boolean().default(false).describe('speak LMTP instead of SMTP'),
  maxMessageBytes: positiveInt.optional().describe('largest message accepted (default 30 MiB)'),
  maxClients: positiveInt.optional().describe('simultaneous connections (default 100)'),
  maxClientsPerAddress: positiveInt.optional().describe('simultaneous connections per client address (default 10)'),
  onward: SmtpOnwardSection.optional(),
  tls: TlsFiles.optional().describe('offer STARTTLS with this certificate'),
});
export type SmtpSection = z.infer<typeof SmtpSection>;

export const smtp = { schema: SmtpSection.optional(), paths: ['tls.cert', 'tls.key'] } satisfies SectionSpec;
