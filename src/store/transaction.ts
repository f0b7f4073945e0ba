/**
 * @module store/transaction — the one way every area writes in a transaction on either store,
 * without blocking the event loop while SQLite's write lock is taken.
 */
import { sql, type Kysely } from 'kysely';
import type { Database, Store } from './index.js';

type Db = Kysely<Database>;

/**
 * A write transaction. SQLite: BEGIN IMMEDIATE taken without blocking the event loop (busy
 * timeout 0 while acquiring, retried on a timer) so a CLI command holding the write lock never
 * freezes datagram intake. PostgreSQL: READ COMMITTED; the window rows are locked FOR SHARE.
 */
export async function writeTransaction<T>(store: Store, fn: (db: Db) => Promise<T>): Promise<T> {
  if (store.kind === 'postgres') return store.db.transaction().execute(fn);
  return store.db.connection().execute(async (conn) => {
    for (let attempt = 0; ; attempt++) {
      await sql`pragma busy_timeout = 0`.execute(conn);
      try {
        await sql`begin immediate`.execute(conn);
        break;
      } catch (e) {
        if ((e as { code?: string }).code !== 'SQLITE_BUSY' || attempt > 2000) throw e;
      } finally {
        await sql`pragma busy_timeout = 5000`.execute(conn);
      }
      await new Promise((r) => setTimeout(r, Math.min(50, 2 + attempt)));
    }
    try {
      const r = await fn(conn);
      await sql`commit`.execute(conn);
      return r;
    } catch (e) {
      await sql`rollback`.execute(conn).catch(() => {});
      throw e;
    }
  });
}
