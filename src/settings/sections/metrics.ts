/** @module settings/sections/metrics — `metrics`: GET /metrics on its own address, without the admin token. */
import { z } from 'zod';
import { hostPort, type SectionSpec } from './common.js';

export const MetricsSection = z.strictObject({
  listen: hostPort.describe('HOST:PORT only the Prometheus scraper can reach'),
});
export type MetricsSection = z.infer<typeof MetricsSection>;

export const metrics = { schema: MetricsSection.optional() } satisfies SectionSpec;
