/**
 * @module store/migrations/0540_web_session — web UI sessions in the store, not in one process's
 * memory: a sign-in survives a restart and is good on every node behind a load balancer, and
 * signing out ends it everywhere. Only a hash of each cookie value is kept.
 */
import type { Kysely } from '../kysely.js';
import type { StoreKind } from '../schema.js';

export async function up(db: Kysely<any>, _kind: StoreKind): Promise<void> {
  await db.schema.createTable('web_session')
    .addColumn('id_hash', 'text', (c) => c.primaryKey())
    .addColumn('csrf', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('web_session_expires').on('web_session').columns(['expires_at']).execute();
}
