/** @module store/migrations/0500_alerts — alert history and evaluator state (see store/tables/alerts). */
import type { Kysely } from 'kysely';
import type { StoreKind } from '../schema.js';

export async function up(db: Kysely<any>, kind: StoreKind): Promise<void> {
  const t = db.schema.createTable('alert');
  await (kind === 'postgres' ? t.addColumn('id', 'bigserial', (c) => c.primaryKey()) : t.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement()))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('rule', 'text', (c) => c.notNull())
    .addColumn('severity', 'text', (c) => c.notNull())
    .addColumn('policy_domain', 'text', (c) => c.notNull())
    .addColumn('alert_key', 'text', (c) => c.notNull())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('detail_json', 'text', (c) => c.notNull())
    .addColumn('report_ref', 'bigint')
    .addColumn('notified', 'text', (c) => c.notNull())
    .addColumn('digested_at', 'bigint')
    .execute();
  await db.schema.createIndex('alert_key_time').on('alert').columns(['alert_key', 'created_at']).execute();
  await db.schema.createIndex('alert_time').on('alert').columns(['created_at']).execute();
  await db.schema.createTable('alert_state')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('value', 'bigint', (c) => c.notNull())
    .execute();
}
