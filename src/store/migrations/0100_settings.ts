/** @module store/migrations/0100_settings — tables of the settings area: `settings` (singletons as JSON, versioned) and `admin_token`. */
import type { Kysely } from 'kysely';
import type { StoreKind } from '../schema.js';

export async function up(db: Kysely<any>, kind: StoreKind): Promise<void> {
  const epoch = kind === 'postgres' ? 'bigint' : 'integer';
  await db.schema
    .createTable('settings')
    .ifNotExists()
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('version', epoch, (c) => c.notNull().defaultTo(1))
    .addColumn('updated_at', epoch, (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('admin_token')
    .ifNotExists()
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('token_hash', 'text', (c) => c.notNull())
    .addColumn('created_at', epoch, (c) => c.notNull())
    .execute();
}
