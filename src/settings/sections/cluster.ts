/** @module settings/sections/cluster — `cluster`: this node's name among the nodes sharing one PostgreSQL store (`tlsrpt cluster status`). */
import { z } from 'zod';
import type { SectionSpec } from './common.js';

export const ClusterSection = z.strictObject({
  nodeName: z.string().min(1).optional().describe("this node's name in `tlsrpt cluster status` (default: SystemSettings.hostname of this file, else the host name)"),
});
export type ClusterSection = z.infer<typeof ClusterSection>;

export const cluster = { schema: ClusterSection.optional() } satisfies SectionSpec;
