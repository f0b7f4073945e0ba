/**
 * @module store/migrations/0301_outbound_journal — the collector's write-ahead journal of
 * acknowledged event batches (`outbound_journal`) and the liveness of collector instances
 * (`outbound_collector`). See src/sending/collect/journal.ts.
 */
import type { Kysely } from 'kysely';
import type { StoreKind } from '../schema.js';

export async function up(db: Kysely<any>, kind: StoreKind): Promise<void> {
  const big = kind === 'postgres' ? 'bigint' : 'integer';
  await db.schema
    .createTable('outbound_journal')
    .ifNotExists()
    .addColumn('id', kind === 'postgres' ? 'bigserial' : 'integer', (c) => (kind === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()))
    .addColumn('instance_id', 'text', (c) => c.notNull())
    .addColumn('created_at_ms', big, (c) => c.notNull())
    .addColumn('format', 'text', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('outbound_journal_instance').ifNotExists().on('outbound_journal').columns(['instance_id']).execute();
  await db.schema
    .createTable('outbound_collector')
    .ifNotExists()
    .addColumn('instance_id', 'text', (c) => c.primaryKey())
    .addColumn('hostname', 'text', (c) => c.notNull())
    .addColumn('pid', big, (c) => c.notNull())
    .addColumn('started_at', big, (c) => c.notNull())
    .addColumn('heartbeat_at', big, (c) => c.notNull())
    .execute();
}
