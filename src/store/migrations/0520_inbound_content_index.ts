/**
 * @module store/migrations/0520_inbound_content_index — the content de-duplication index without
 * `policy_domains`: a report about 2,000 policy domains made that key 6 KB, over PostgreSQL's
 * 2,704-byte B-tree row limit, so it could never be stored (503 and a retry for ever). The
 * content hash already covers the policy domains (and the date range), so the key loses nothing.
 */
import type { Kysely } from '../kysely.js';
import type { StoreKind } from '../schema.js';

export async function up(db: Kysely<any>, _kind: StoreKind): Promise<void> {
  await db.schema.dropIndex('inbound_report_uq_content').execute();
  await db.schema
    .createIndex('inbound_report_uq_content')
    .unique()
    .on('inbound_report')
    .columns(['reporter', 'date_start', 'date_end', 'content_hash', 'verified'])
    .execute();
}
