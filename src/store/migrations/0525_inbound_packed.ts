/**
 * @module store/migrations/0525_inbound_packed — large reports stored gzip'd (store/packed.ts):
 * `report_json_gz` holds the JSON when `report_json` is left empty, `blob_encoding` 'gzip' says
 * the payload and raw input are packed; and the date-range as the report gave it, so listing reports never
 * has to read (or unpack) their JSON. Older rows keep those null; readers fall back.
 */
import type { Kysely } from '../kysely.js';
import type { StoreKind } from '../schema.js';

export async function up(db: Kysely<any>, kind: StoreKind): Promise<void> {
  const blob = kind === 'postgres' ? 'bytea' : 'blob';
  await db.schema.alterTable('inbound_report').addColumn('report_json_gz', blob).execute();
  await db.schema.alterTable('inbound_report').addColumn('blob_encoding', 'text').execute();
  await db.schema.alterTable('inbound_report').addColumn('start_datetime', 'text').execute();
  await db.schema.alterTable('inbound_report').addColumn('end_datetime', 'text').execute();
}
