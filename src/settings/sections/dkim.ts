/**
 * @module settings/sections/dkim — `dkim`: the keys report mail is signed with (RFC 8460 §3),
 * one per signing domain; `TlsReportSettings.dkimSignDomain` picks one.
 */
import { z } from 'zod';
import { filePath, type SectionSpec } from './common.js';

export const DkimKeySection = z.strictObject({
  domain: z.string().min(1).describe('the signing domain (d=)'),
  selector: z.string().min(1).describe('the selector (s=); its public key is published at SELECTOR._domainkey.DOMAIN'),
  privateKeyFile: filePath('the PEM private key').optional(),
  privateKey: z.string().optional().describe('the PEM private key itself (instead of privateKeyFile)'),
}).refine((k) => (k.privateKeyFile === undefined) !== (k.privateKey === undefined), {
  message: 'give the key as "privateKeyFile" (a PEM file), or as "privateKey" (the PEM text) — exactly one',
});
export type DkimKeySection = z.infer<typeof DkimKeySection>;

export const DkimSection = z.array(DkimKeySection);

export const dkim = { schema: DkimSection.optional(), paths: ['[].privateKeyFile'] } satisfies SectionSpec;
