/**
 * @module store/migrations/0545_target_due_index — the delivery queue's claim reads the targets
 * still to send in the order it takes them: (next_attempt_at, id) over active rows only, instead
 * of (state, next_attempt_at), whose two `state` ranges had to be merged by sorting every active
 * target — 80 ms per claim with 100,000 of them on SQLite, a stall of the whole service each time.
 */
import { sql, type Kysely } from '../kysely.js';
import type { StoreKind } from '../schema.js';

export async function up(db: Kysely<any>, _kind: StoreKind): Promise<void> {
  await db.schema.dropIndex('outbound_target_due_idx').ifExists().execute();
  // The predicate is spelt as the claim spells it: a partial index serves only queries whose
  // WHERE contains it literally (sending/deliver/queue.ts).
  await sql`create index outbound_target_active_due on outbound_target (next_attempt_at, id) where state in ('pending', 'retrying')`.execute(db);
}
