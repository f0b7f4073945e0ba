/**
 * @module store/migrations/0200_inbound — tables of received reports (see store/tables/inbound).
 * De-duplication is enforced by two unique indexes, so concurrent ingestion (several channels,
 * several nodes) stores a report once: (reporter, report_id) and, for re-generated copies with
 * a new report-id, (reporter, policy_domains, date_start, date_end, content_hash).
 */
import type { Kysely } from 'kysely';
import type { StoreKind } from '../schema.js';

export async function up(db: Kysely<any>, kind: StoreKind): Promise<void> {
  const pg = kind === 'postgres';
  const blob = pg ? 'bytea' : 'blob';
  const id = (t: ReturnType<Kysely<any>['schema']['createTable']>) =>
    pg ? t.addColumn('id', 'bigserial', (c) => c.primaryKey()) : t.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement());

  await id(db.schema.createTable('inbound_report'))
    .addColumn('reporter', 'text', (c) => c.notNull())
    .addColumn('organization_name', 'text', (c) => c.notNull())
    .addColumn('contact_info', 'text')
    .addColumn('report_id', 'text', (c) => c.notNull())
    .addColumn('date_start', 'bigint', (c) => c.notNull())
    .addColumn('date_end', 'bigint', (c) => c.notNull())
    .addColumn('day', 'integer', (c) => c.notNull())
    .addColumn('policy_domains', 'text', (c) => c.notNull())
    .addColumn('content_hash', 'text', (c) => c.notNull())
    .addColumn('total_successful', 'bigint', (c) => c.notNull())
    .addColumn('total_failed', 'bigint', (c) => c.notNull())
    .addColumn('findings_count', 'integer', (c) => c.notNull())
    .addColumn('channel', 'text', (c) => c.notNull())
    .addColumn('peer', 'text')
    .addColumn('source', 'text')
    .addColumn('received_at', 'bigint', (c) => c.notNull())
    .addColumn('envelope_json', 'text')
    .addColumn('message_json', 'text')
    .addColumn('dkim_result', 'text', (c) => c.notNull())
    .addColumn('dkim_domain', 'text')
    .addColumn('dkim_aligned', 'integer', (c) => c.notNull())
    .addColumn('dkim_json', 'text')
    .addColumn('report_json', 'text', (c) => c.notNull())
    .addColumn('payload', blob, (c) => c.notNull())
    .addColumn('raw', blob)
    .execute();
  await db.schema.createIndex('inbound_report_uq_id').unique().on('inbound_report').columns(['reporter', 'report_id']).execute();
  await db.schema
    .createIndex('inbound_report_uq_content')
    .unique()
    .on('inbound_report')
    .columns(['reporter', 'policy_domains', 'date_start', 'date_end', 'content_hash'])
    .execute();
  await db.schema.createIndex('inbound_report_day').on('inbound_report').columns(['date_start']).execute();
  await db.schema.createIndex('inbound_report_end').on('inbound_report').columns(['date_end']).execute();
  await db.schema.createIndex('inbound_report_received').on('inbound_report').columns(['received_at']).execute();

  await id(db.schema.createTable('inbound_policy'))
    .addColumn('report_ref', 'bigint', (c) => c.notNull().references('inbound_report.id').onDelete('cascade'))
    .addColumn('idx', 'integer', (c) => c.notNull())
    .addColumn('policy_type', 'text', (c) => c.notNull())
    .addColumn('policy_domain', 'text', (c) => c.notNull())
    .addColumn('policy_string_json', 'text', (c) => c.notNull())
    .addColumn('mx_host_json', 'text', (c) => c.notNull())
    .addColumn('successful', 'bigint', (c) => c.notNull())
    .addColumn('failed', 'bigint', (c) => c.notNull())
    .addColumn('reporter', 'text', (c) => c.notNull())
    .addColumn('day', 'integer', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('inbound_policy_report').on('inbound_policy').columns(['report_ref']).execute();
  await db.schema.createIndex('inbound_policy_domain_day').on('inbound_policy').columns(['policy_domain', 'day']).execute();
  await db.schema.createIndex('inbound_policy_day').on('inbound_policy').columns(['day']).execute();

  await id(db.schema.createTable('inbound_failure'))
    .addColumn('report_ref', 'bigint', (c) => c.notNull().references('inbound_report.id').onDelete('cascade'))
    .addColumn('policy_ref', 'bigint', (c) => c.notNull().references('inbound_policy.id').onDelete('cascade'))
    .addColumn('result_type', 'text', (c) => c.notNull())
    .addColumn('sending_mta_ip', 'text')
    .addColumn('receiving_mx_hostname', 'text')
    .addColumn('receiving_mx_helo', 'text')
    .addColumn('receiving_ip', 'text')
    .addColumn('failed_session_count', 'bigint', (c) => c.notNull())
    .addColumn('additional_information', 'text')
    .addColumn('failure_reason_code', 'text')
    .addColumn('extra_json', 'text')
    .addColumn('policy_domain', 'text', (c) => c.notNull())
    .addColumn('reporter', 'text', (c) => c.notNull())
    .addColumn('day', 'integer', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('inbound_failure_report').on('inbound_failure').columns(['report_ref']).execute();
  await db.schema.createIndex('inbound_failure_policy').on('inbound_failure').columns(['policy_ref']).execute();
  await db.schema.createIndex('inbound_failure_domain_day').on('inbound_failure').columns(['policy_domain', 'day']).execute();
  await db.schema.createIndex('inbound_failure_result').on('inbound_failure').columns(['result_type', 'day']).execute();
  await db.schema.createIndex('inbound_failure_mx').on('inbound_failure').columns(['receiving_mx_hostname']).execute();
  await db.schema.createIndex('inbound_failure_ip').on('inbound_failure').columns(['receiving_ip']).execute();

  await id(db.schema.createTable('inbound_finding'))
    .addColumn('report_ref', 'bigint', (c) => c.notNull().references('inbound_report.id').onDelete('cascade'))
    .addColumn('code', 'text', (c) => c.notNull())
    .addColumn('path', 'text')
    .addColumn('message', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('inbound_finding_report').on('inbound_finding').columns(['report_ref']).execute();
  await db.schema.createIndex('inbound_finding_code').on('inbound_finding').columns(['code']).execute();
}
