/** @module settings/sections/log — `log`: how the service writes its log on stderr (common/log.ts). */
import { z } from 'zod';
import type { SectionSpec } from './common.js';

export const LogSection = z.strictObject({
  format: z.enum(['auto', 'pretty', 'json']).default('auto').describe('pretty: one line per event; json: JSON lines; auto: pretty on a terminal'),
  level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).optional(),
});
export type LogSection = z.infer<typeof LogSection>;

export const log = { schema: LogSection.optional() } satisfies SectionSpec;
