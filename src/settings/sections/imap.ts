/**
 * @module settings/sections/imap — `imap`: mailboxes polled for report mail, one entry per account.
 */
import { z } from 'zod';
import { positiveInt, type SectionSpec } from './common.js';

export const ImapAccountSection = z.strictObject({
  host: z.string().min(1).describe('the IMAP server'),
  port: z.number().int().min(1).max(65535).default(993),
  secure: z.boolean().default(true).describe('implicit TLS (993); false: plain or STARTTLS'),
  user: z.string().min(1).describe('the IMAP login'),
  password: z.string().describe('the password of that login'),
  mailbox: z.string().default('INBOX'),
  processedFolder: z.string().default('TLSRPT/Processed').describe('where processed mail is moved'),
  failedFolder: z.string().default('TLSRPT/Failed').describe('where non-reports and refused mail are moved'),
  deleteProcessed: z.boolean().default(false),
  pollSeconds: z.number().positive().default(60),
  /** Messages larger than this are not downloaded; they go to the failed folder. */
  maxMessageBytes: positiveInt.default(30 * 1024 * 1024),
  /** Accept a server certificate that does not verify (a local server with a self-signed one). */
  tlsInsecure: z.boolean().default(false),
  /** Issue 10: log in without TLS only when this is set. */
  allowPlaintextAuth: z.boolean().default(false),
  /** Attempts before a message whose storage keeps failing is moved to the failed folder. */
  maxAttempts: positiveInt.default(5),
});
export type ImapAccount = z.infer<typeof ImapAccountSection>;

export const ImapSection = z.array(ImapAccountSection);

export const imap = { schema: ImapSection.optional() } satisfies SectionSpec;
