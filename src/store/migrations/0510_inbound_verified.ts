/**
 * @module store/migrations/0510_inbound_verified — attribution of received reports (issue 10):
 * `verified` is 1 when a passing DKIM signature aligns with the contact-info (or
 * TLS-Report-Submitter) domain and that domain is the reporter the report is filed under.
 * The de-duplication indexes gain the column, so an unverified copy (an unauthenticated POST
 * naming google.com) can never be the stored copy that makes the real, signed one a duplicate;
 * the store replaces an unverified copy when the verified one arrives.
 */
import { sql, type Kysely } from '../kysely.js';
import type { StoreKind } from '../schema.js';

export async function up(db: Kysely<any>, _kind: StoreKind): Promise<void> {
  await db.schema.alterTable('inbound_report').addColumn('verified', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  // Reports stored before this migration: a passing DKIM signature aligned with the reporter's own domain.
  await sql`update inbound_report set verified = 1 where dkim_result = 'pass' and dkim_aligned = 1 and dkim_domain is not null and (dkim_domain = reporter or dkim_domain like '%.' || reporter)`.execute(db);
  await db.schema.dropIndex('inbound_report_uq_id').execute();
  await db.schema.dropIndex('inbound_report_uq_content').execute();
  await db.schema.createIndex('inbound_report_uq_id').unique().on('inbound_report').columns(['reporter', 'report_id', 'verified']).execute();
  await db.schema
    .createIndex('inbound_report_uq_content')
    .unique()
    .on('inbound_report')
    .columns(['reporter', 'policy_domains', 'date_start', 'date_end', 'content_hash', 'verified'])
    .execute();
}
