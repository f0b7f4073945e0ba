/**
 * @module store/migrations/0201_inbound_ui — indexes for the web UI's reads over a year of
 * reports (bench/web-ui: 110k reports). The policy and failure indexes cover the overview's and
 * the domain page's grouped sums (an index-only scan instead of 110k row look-ups through the
 * `day` index: 400 ms → tens of ms on SQLite); the report indexes serve the list filters
 * (reporter or organisation name, channel, has-failures) and the system page's per-channel counts
 * without reading the wide report rows (raw bytes, JSON) of the whole table.
 */
import { sql, type Kysely } from '../kysely.js';
import type { StoreKind } from '../schema.js';

export async function up(db: Kysely<any>, _kind: StoreKind): Promise<void> {
  await db.schema.createIndex('inbound_policy_ui').ifNotExists().on('inbound_policy')
    .columns(['day', 'policy_domain', 'reporter', 'successful', 'failed', 'report_ref']).execute();
  await db.schema.createIndex('inbound_failure_ui').ifNotExists().on('inbound_failure')
    .columns(['day', 'policy_domain', 'result_type', 'receiving_mx_hostname', 'failed_session_count']).execute();
  await db.schema.createIndex('inbound_report_reporter_start').ifNotExists().on('inbound_report').columns(['reporter', 'date_start']).execute();
  await db.schema.createIndex('inbound_report_org_lower').ifNotExists().on('inbound_report').expression(sql`lower(organization_name)`).execute();
  await db.schema.createIndex('inbound_report_channel').ifNotExists().on('inbound_report').columns(['channel', 'date_start', 'received_at']).execute();
  await db.schema.createIndex('inbound_report_failed').ifNotExists().on('inbound_report').columns(['total_failed', 'date_start']).execute();
}
