/**
 * @module sending/collect/journal — the write-ahead journal that makes an HTTP acknowledgement durable
 * without a counters transaction per request. A batch is committed to `outbound_journal` (one
 * row, the validated body as sent) before the answer; its events are counted in memory; the
 * flush transaction that adds them to the counters deletes the row, so each is stored exactly
 * once. A collector that dies leaves its rows; the next collector on the same host replays
 * them at start when the dead one's pid is gone, and any collector replays rows of an instance
 * whose heartbeat is older than `STALE_SECONDS` (another host).
 */
import { hostname } from 'node:os';
import type { Store } from '../../store/index.js';

/** An instance that has not beaten its heart for this long is dead (its rows are replayed). */
export const STALE_SECONDS = 60;
export const HEARTBEAT_MS = 10_000;

export type JournalFormat = 'events-json' | 'outcomes-json';

export interface JournalRow {
  id: number;
  createdAtMs: number;
  format: JournalFormat;
  body: string;
}

export interface CollectorInstance {
  instanceId: string;
  hostname: string;
  pid: number;
}

const nowSec = () => Math.floor(Date.now() / 1000);

export function thisInstance(instanceId: string): CollectorInstance {
  return { instanceId, hostname: hostname(), pid: process.pid };
}

/** Announces a running instance (its journal rows are then left alone by others). */
export async function registerInstance(store: Store, me: CollectorInstance): Promise<void> {
  const t = nowSec();
  await store.db
    .insertInto('outbound_collector')
    .values({ instance_id: me.instanceId, hostname: me.hostname, pid: me.pid, started_at: t, heartbeat_at: t })
    .onConflict((oc) => oc.column('instance_id').doUpdateSet({ heartbeat_at: t }))
    .execute();
}

export async function heartbeat(store: Store, me: CollectorInstance): Promise<void> {
  await store.db.updateTable('outbound_collector').set({ heartbeat_at: nowSec() }).where('instance_id', '=', me.instanceId).execute();
}

export async function unregisterInstance(store: Store, me: CollectorInstance): Promise<void> {
  await store.db.deleteFrom('outbound_collector').where('instance_id', '=', me.instanceId).execute();
}

/** Commits one acknowledged batch; returns its row id. */
export async function appendJournal(store: Store, me: CollectorInstance, format: JournalFormat, body: string, createdAtMs: number): Promise<number> {
  const r = await store.db
    .insertInto('outbound_journal')
    .values({ instance_id: me.instanceId, created_at_ms: createdAtMs, format, body })
    .returning('id')
    .executeTakeFirstOrThrow();
  return Number(r.id);
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes over the journal rows of dead instances (they become `me`'s, so my flush deletes them)
 * and returns their ids, oldest first. Two collectors racing for the same rows: the UPDATE
 * moves each row once.
 */
export async function claimOrphans(store: Store, me: CollectorInstance): Promise<number[]> {
  const owners = await store.db.selectFrom('outbound_journal').select('instance_id').distinct().where('instance_id', '<>', me.instanceId).execute();
  if (owners.length === 0) return [];
  const live = await store.db.selectFrom('outbound_collector').selectAll().where('instance_id', 'in', owners.map((o) => o.instance_id)).execute();
  const byId = new Map(live.map((c) => [c.instance_id, c]));
  const dead = owners
    .map((o) => o.instance_id)
    .filter((id) => {
      const c = byId.get(id);
      if (!c) return true;
      if (Number(c.heartbeat_at) < nowSec() - STALE_SECONDS) return true;
      return c.hostname === me.hostname && !pidAlive(Number(c.pid));
    });
  if (dead.length === 0) return [];
  const claimed = await store.db
    .updateTable('outbound_journal')
    .set({ instance_id: me.instanceId })
    .where('instance_id', 'in', dead)
    .returning('id')
    .execute();
  await store.db.deleteFrom('outbound_collector').where('instance_id', 'in', dead).execute();
  return claimed.map((r) => Number(r.id)).sort((a, b) => a - b);
}

/** The rows with these ids (replayed in pages, to bound memory). */
export async function readJournal(store: Store, ids: number[]): Promise<JournalRow[]> {
  if (ids.length === 0) return [];
  const rows = await store.db.selectFrom('outbound_journal').selectAll().where('id', 'in', ids).orderBy('id').execute();
  return rows.map((r) => ({ id: Number(r.id), createdAtMs: Number(r.created_at_ms), format: r.format as JournalFormat, body: r.body }));
}
