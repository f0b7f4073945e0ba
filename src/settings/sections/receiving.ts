/** @module settings/sections/receiving — `receiving`: which received reports are kept (RFC 8460 §3 DKIM, policy domains). */
import { z } from 'zod';
import type { SectionSpec } from './common.js';

export const ReceivingSection = z.strictObject({
  /** RFC 8460 §3: `flag` stores unsigned/unaligned e-mailed reports with their DKIM result; `reject` refuses them. */
  dkim: z.enum(['flag', 'reject']).default('flag').describe('what to do with e-mailed reports without an aligned DKIM signature'),
  /** Accept only reports about these policy domains (`*.example.org` for subdomains); empty: all. */
  policyDomains: z.array(z.string()).default([]),
  /** MX hosts DANE reports may name (`*.suffix` allowed). */
  mxHosts: z.array(z.string()).default([]),
}).prefault({});
export type ReceivingSection = z.infer<typeof ReceivingSection>;

export const receiving = { schema: ReceivingSection } satisfies SectionSpec;
