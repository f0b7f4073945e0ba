/** @module sending/windows/store — what the collector asks of the stored windows (the open-windows gauge). */
import type { Kysely } from 'kysely';
import type { Database, Store } from '../../store/index.js';

type Db = Kysely<Database>;
const dbOf = (s: Store | Db): Db => ('db' in s && 'kind' in s ? (s as Store).db : (s as Db));

/** How many windows are open (the `tlsrpt_collector_open_windows` gauge). */
export async function countOpenWindows(store: Store | Db): Promise<number> {
  const r = await dbOf(store).selectFrom('outbound_window').select((eb) => eb.fn.countAll<number>().as('n')).where('state', '=', 'open').executeTakeFirst();
  return Number(r?.n ?? 0);
}
