/**
 * @module store/kysely — kysely's run-time values, taken from its CommonJS build. Its ESM build is
 * 263 modules, and Node 20 keeps an ES module's records resident: loaded as CommonJS, an idle
 * `serve` holds ~4.5 MiB less (measured, issue 12 footprint). Types still come from 'kysely'.
 * Import kysely's values from here, not from 'kysely', so one copy of the library is loaded.
 */
import { createRequire } from 'node:module';
import type * as K from 'kysely';

const kysely = createRequire(import.meta.url)('kysely') as typeof K;

export const { sql, CompiledQuery, Kysely, Migrator, PostgresDialect, SqliteDialect } = kysely;
export type Kysely<DB> = K.Kysely<DB>;
export type CompiledQuery<R = unknown> = K.CompiledQuery<R>;
export type Migrator = K.Migrator;
export type { Migration, MigrationProvider, SqliteDialectConfig } from 'kysely';
