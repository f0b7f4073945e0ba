/** @module settings/sections/delivery — `delivery`: when and how built reports go out (RFC 8460 §5). */
import { z } from 'zod';
import { filePath, positiveInt, type SectionSpec } from './common.js';

export const DeliverySection = z.strictObject({
  spreadSeconds: z.number().int().nonnegative().default(3600).describe('send each report after a random delay of up to this many seconds (0: at once)'),
  allowPrivateTargets: z.boolean().default(false).describe('allow https: rua targets on private, loopback or link-local addresses'),
  extraCaFile: filePath('extra CA certificates (PEM) for https: rua targets').optional(),
  /** How long a claim on a report or target holds before another process may take it over. */
  leaseSeconds: positiveInt.optional(),
});
export type DeliverySection = z.infer<typeof DeliverySection>;

export const delivery = { schema: DeliverySection.optional(), paths: ['extraCaFile'] } satisfies SectionSpec;
