/**
 * @module settings/sections/store — `store`: the database, `{"sqlite": FILE}` (default
 * `./data/tlsrpt.db`) or `{"postgres": URL}` for several nodes on one database.
 */
import { z } from 'zod';
import type { SectionSpec } from './common.js';

const shape = z.strictObject({
  sqlite: z.string().min(1).optional().describe('the SQLite database file (created on first `serve`)'),
  postgres: z.string().regex(/^postgres(ql)?:\/\//, 'expected a postgres:// URL').optional().describe('a PostgreSQL URL, postgres://user@host/db'),
});

export const StoreSection = shape
  .refine((s) => (s.sqlite === undefined) !== (s.postgres === undefined), {
    message: 'give exactly one of "sqlite" (a file) or "postgres" (a postgres:// URL)',
  })
  // One of the two, as the store opens it.
  .transform((s): { sqlite: string } | { postgres: string } => (s.postgres !== undefined ? { postgres: s.postgres } : { sqlite: s.sqlite ?? '' }))
  .default({ sqlite: './data/tlsrpt.db' });
export type StoreSection = z.infer<typeof StoreSection>;

export const store = { schema: StoreSection, paths: ['sqlite'], createdPaths: ['sqlite'] } satisfies SectionSpec;
