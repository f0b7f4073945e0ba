/** @module settings/sections/retention — `retention`: how long received reports are kept. */
import { z } from 'zod';
import type { SectionSpec } from './common.js';

export const DEFAULT_INBOUND_RETENTION_DAYS = 400;

export const RetentionSection = z.strictObject({
  inboundDays: z.number().int().positive().max(36500).default(DEFAULT_INBOUND_RETENTION_DAYS).describe('days a received report is kept after it arrived'),
  /** How often the purge runs; default once a day. */
  purgeIntervalSeconds: z.number().int().positive().default(86400),
}).prefault({});
export type RetentionSection = z.infer<typeof RetentionSection>;

export const retention = { schema: RetentionSection } satisfies SectionSpec;
