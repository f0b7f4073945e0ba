/**
 * @module store/migrations/0300_outbound — the collector's tables: `outbound_window`,
 * `outbound_policy`, `outbound_failure` (see src/store/tables/outbound.ts).
 */
import { sql, type Kysely } from '../kysely.js';
import type { StoreKind } from '../schema.js';

export async function up(db: Kysely<any>, kind: StoreKind): Promise<void> {
  // Counters and epochs are int8 on PostgreSQL (the store parses int8 to number).
  const big = kind === 'postgres' ? 'bigint' : 'integer';
  await db.schema
    .createTable('outbound_window')
    .ifNotExists()
    .addColumn('id', kind === 'postgres' ? 'bigserial' : 'integer', (c) => (kind === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()))
    .addColumn('policy_domain', 'text', (c) => c.notNull())
    .addColumn('window_start', big, (c) => c.notNull())
    .addColumn('window_end', big, (c) => c.notNull())
    .addColumn('frequency', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull().defaultTo('open'))
    .addColumn('created_at', big, (c) => c.notNull())
    .addColumn('closed_at', big)
    .execute();
  // At most one OPEN window per (policy_domain, window_start): concurrent collectors (several
  // nodes, or serve + CLI) converge on one row with INSERT … ON CONFLICT DO NOTHING.
  await db.schema
    .createIndex('outbound_window_open_uq')
    .ifNotExists()
    .on('outbound_window')
    .columns(['policy_domain', 'window_start'])
    .unique()
    .where(sql.ref('state'), '=', sql.lit('open'))
    .execute();
  // The delivery scheduler looks for due windows: state = 'open' and window_end <= now.
  await db.schema.createIndex('outbound_window_state_end').ifNotExists().on('outbound_window').columns(['state', 'window_end']).execute();

  await db.schema
    .createTable('outbound_policy')
    .ifNotExists()
    .addColumn('window_id', big, (c) => c.notNull().references('outbound_window.id').onDelete('cascade'))
    .addColumn('fingerprint', 'text', (c) => c.notNull())
    .addColumn('tlsrpt_record', 'text')
    .addColumn('policy_json', 'text', (c) => c.notNull())
    .addColumn('successful', big, (c) => c.notNull().defaultTo(0))
    .addColumn('failed', big, (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint('outbound_policy_pk', ['window_id', 'fingerprint'])
    .execute();

  await db.schema
    .createTable('outbound_failure')
    .ifNotExists()
    .addColumn('window_id', big, (c) => c.notNull())
    .addColumn('fingerprint', 'text', (c) => c.notNull())
    .addColumn('detail_key', 'text', (c) => c.notNull())
    .addColumn('detail_json', 'text', (c) => c.notNull())
    .addColumn('count', big, (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint('outbound_failure_pk', ['window_id', 'fingerprint', 'detail_key'])
    .addForeignKeyConstraint('outbound_failure_policy_fk', ['window_id', 'fingerprint'], 'outbound_policy', ['window_id', 'fingerprint'], (c) => c.onDelete('cascade'))
    .execute();
}
