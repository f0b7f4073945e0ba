/** @module settings/sections/dns — `dns`: the resolvers for TLSRPT records, DKIM keys and rua hosts (default: the system's). */
import { z } from 'zod';
import type { SectionSpec } from './common.js';

export const DnsSection = z.strictObject({
  servers: z.array(z.string().min(1)).optional().describe('resolver addresses, e.g. ["127.0.0.1:53"]'),
});
export type DnsSection = z.infer<typeof DnsSection>;

export const dns = { schema: DnsSection.optional() } satisfies SectionSpec;
