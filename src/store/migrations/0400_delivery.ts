/**
 * @module store/migrations/0400_delivery — `outbound_report` and `outbound_target` (see
 * store/tables/delivery.ts). Claims are columns (claimed_by, claimed_until) so SQLite claims
 * with one atomic UPDATE and PostgreSQL with FOR UPDATE SKIP LOCKED on the same rows.
 */
import type { Kysely } from 'kysely';
import type { StoreKind } from '../schema.js';

export async function up(db: Kysely<any>, kind: StoreKind): Promise<void> {
  const pg = kind === 'postgres';
  const epoch = pg ? 'bigint' : 'integer';
  await db.schema
    .createTable('outbound_report')
    .ifNotExists()
    .addColumn('id', pg ? 'bigserial' : 'integer', (c) => (pg ? c.primaryKey() : c.primaryKey().autoIncrement()))
    .addColumn('window_id', epoch, (c) => c.notNull().unique())
    .addColumn('policy_domain', 'text', (c) => c.notNull())
    .addColumn('window_start', epoch, (c) => c.notNull())
    .addColumn('window_end', epoch, (c) => c.notNull())
    .addColumn('report_id', 'text')
    .addColumn('json_bytes', epoch)
    .addColumn('gz', pg ? 'bytea' : 'blob')
    .addColumn('file_name', 'text')
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('reason', 'text')
    .addColumn('record_source', 'text')
    .addColumn('tlsrpt_record', 'text')
    .addColumn('trimmed_details', epoch, (c) => c.notNull().defaultTo(0))
    .addColumn('due_at', epoch, (c) => c.notNull())
    .addColumn('created_at', epoch, (c) => c.notNull())
    .addColumn('built_at', epoch)
    .addColumn('claimed_by', 'text')
    .addColumn('claimed_until', epoch, (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.createIndex('outbound_report_state_idx').ifNotExists().on('outbound_report').columns(['state', 'due_at']).execute();
  await db.schema.createIndex('outbound_report_domain_idx').ifNotExists().on('outbound_report').columns(['policy_domain', 'window_start']).execute();

  await db.schema
    .createTable('outbound_target')
    .ifNotExists()
    .addColumn('id', pg ? 'bigserial' : 'integer', (c) => (pg ? c.primaryKey() : c.primaryKey().autoIncrement()))
    .addColumn('outbound_report_id', epoch, (c) => c.notNull().references('outbound_report.id').onDelete('cascade'))
    .addColumn('uri', 'text', (c) => c.notNull())
    .addColumn('scheme', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('attempts', epoch, (c) => c.notNull().defaultTo(0))
    .addColumn('first_attempt_at', epoch)
    .addColumn('last_attempt_at', epoch)
    .addColumn('next_attempt_at', epoch, (c) => c.notNull())
    .addColumn('last_error', 'text')
    .addColumn('sent_detail', 'text')
    .addColumn('sent_at', epoch)
    .addColumn('claimed_by', 'text')
    .addColumn('claimed_until', epoch, (c) => c.notNull().defaultTo(0))
    .addUniqueConstraint('outbound_target_report_uri', ['outbound_report_id', 'uri'])
    .execute();
  await db.schema.createIndex('outbound_target_due_idx').ifNotExists().on('outbound_target').columns(['state', 'next_attempt_at']).execute();
}
