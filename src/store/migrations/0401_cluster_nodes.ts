/**
 * @module store/migrations/0401_cluster_nodes — `outbound_collector` becomes the node registry of a
 * cluster: each row is one running process's lease (its instance id is the fencing token of its
 * journal rows), named for operators (`node_name`) and tied to the name it claims reports and
 * targets under (`claim_id`). See src/cluster/ and src/sending/collect/journal.ts.
 */
import type { Kysely } from 'kysely';
import type { StoreKind } from '../schema.js';

export async function up(db: Kysely<any>, _kind: StoreKind): Promise<void> {
  await db.schema.alterTable('outbound_collector').addColumn('node_name', 'text').execute();
  await db.schema.alterTable('outbound_collector').addColumn('claim_id', 'text').execute();
  // No index on claimed_by for `cluster status`: every claim and build would update it, and the
  // status command can afford a scan.
}
