/**
 * @module store/bulk-insert — many rows in one INSERT, compiled without a query AST (thousands of
 * rows per statement cost more to assemble through the builder than to execute).
 */
import { CompiledQuery } from './kysely.js';
import type { StoreKind } from './schema.js';

/** A column of a bulk insert: its name and how PostgreSQL reads it back from JSON. */
export type BulkColumn = [name: string, type: 'int' | 'text'];

/**
 * `insert into TABLE (cols) <rows> <tail>` as one compiled statement. SQLite: `values (?, …), …`
 * (binding beats its JSON functions, which re-parse an element per column access; keep
 * rows × columns under its 32,766 parameters). PostgreSQL: one jsonb parameter expanded by
 * `jsonb_array_elements` (one round trip, no 65,535-parameter limit).
 */
export function bulkInsert(kind: StoreKind, table: string, cols: BulkColumn[], rows: unknown[][], tail: string): CompiledQuery {
  const names = cols.map((c) => c[0]).join(', ');
  if (kind === 'postgres') {
    const select = cols.map(([name, type], i) => (type === 'int' ? `(e->>${i})::bigint as ${name}` : `e->>${i} as ${name}`)).join(', ');
    return CompiledQuery.raw(`insert into ${table} (${names}) select ${select} from jsonb_array_elements($1::jsonb) as e ${tail}`, [JSON.stringify(rows)]);
  }
  const tuple = `(${cols.map(() => '?').join(',')})`;
  return CompiledQuery.raw(`insert into ${table} (${names}) values ${Array(rows.length).fill(tuple).join(',')} ${tail}`, rows.flat());
}
