/**
 * @module store/migrations/0501_published_policy — the policies a domain was seen publishing
 * (MTA-STS policy lines, TLSA RRsets), for drift: reports quoting a policy never published.
 */
import type { Kysely } from 'kysely';
import type { StoreKind } from '../schema.js';

export async function up(db: Kysely<any>, _kind: StoreKind): Promise<void> {
  await db.schema.createTable('published_policy')
    .addColumn('policy_domain', 'text', (c) => c.notNull())
    .addColumn('policy_type', 'text', (c) => c.notNull())
    .addColumn('fingerprint', 'text', (c) => c.notNull())
    .addColumn('policy_string_json', 'text', (c) => c.notNull())
    .addColumn('sts_id', 'text')
    .addColumn('first_seen', 'bigint', (c) => c.notNull())
    .addColumn('last_seen', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('published_policy_pk', ['policy_domain', 'policy_type', 'fingerprint'])
    .execute();
}
