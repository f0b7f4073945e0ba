/**
 * @module sending/collect/journal — the write-ahead journal that makes an HTTP acknowledgement durable
 * without a counters transaction per request, and the lease that fences it across nodes.
 *
 * A batch is committed to `outbound_journal` (one row, the validated body as sent, owned by the
 * instance that holds it in memory) before the answer; its events are counted in memory; the
 * flush transaction that adds them to the counters deletes the row, so each is stored once.
 *
 * Each instance holds a lease: its `outbound_collector` row, renewed by a heartbeat. A collector
 * that dies leaves its rows; another instance takes them over when the dead one's pid is gone
 * (same host) or its heartbeat is older than `STALE_SECONDS` (another host): in one transaction
 * it deletes the lease row and moves the rows to itself. A node whose heartbeat was only late is
 * then fenced: its flush locks its own lease row and deletes exactly its journal rows in the same
 * transaction as the counters, so with the lease gone the flush rolls back (`FencedError`) and
 * the events are counted once, by the node that took them over.
 */
import { hostname } from 'node:os';
import { sql, type Kysely } from '../../store/kysely.js';
import type { Database, Store, StoreKind } from '../../store/index.js';
import { writeTransaction } from '../../store/transaction.js';

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
  /** The lease and fencing token: unique per process and per rejoin after being fenced. */
  instanceId: string;
  hostname: string;
  pid: number;
  /** The operator's name for the node (cluster status). */
  nodeName: string;
  /** What the node claims reports and targets under (`claimed_by`); default the instance id. */
  claimId: string;
}

/** The lease behind a journal write is gone: another instance took the rows over. */
export class FencedError extends Error {
  override name = 'FencedError';
}

const systemSec = () => Math.floor(Date.now() / 1000);

/** The node name for the registry: `cluster.nodeName`, else the config's SystemSettings.hostname, else the host name. */
export function nodeNameFrom(config: { cluster?: { nodeName?: string }; SystemSettings?: Record<string, unknown> }): string {
  const fromSystem = config.SystemSettings?.hostname;
  return config.cluster?.nodeName ?? (typeof fromSystem === 'string' && fromSystem ? fromSystem : hostname());
}

export function thisInstance(instanceId: string, names: { nodeName?: string; claimId?: string } = {}): CollectorInstance {
  return { instanceId, hostname: hostname(), pid: process.pid, nodeName: names.nodeName ?? hostname(), claimId: names.claimId ?? instanceId };
}

/** Announces a running instance (its journal rows are then left alone by others while its heartbeat lasts). */
export async function registerInstance(store: Store, me: CollectorInstance, nowSec = systemSec()): Promise<void> {
  await store.db
    .insertInto('outbound_collector')
    .values({ instance_id: me.instanceId, hostname: me.hostname, pid: me.pid, started_at: nowSec, heartbeat_at: nowSec, node_name: me.nodeName, claim_id: me.claimId })
    .onConflict((oc) => oc.column('instance_id').doUpdateSet({ heartbeat_at: nowSec }))
    .execute();
}

/** Renews the lease; false when it is gone (taken over: the caller is fenced and must rejoin). */
export async function heartbeat(store: Store, me: CollectorInstance, nowSec = systemSec()): Promise<boolean> {
  const r = await store.db.updateTable('outbound_collector').set({ heartbeat_at: nowSec }).where('instance_id', '=', me.instanceId).executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export async function unregisterInstance(store: Store, me: CollectorInstance): Promise<void> {
  await store.db.deleteFrom('outbound_collector').where('instance_id', '=', me.instanceId).execute();
}

/**
 * Commits one acknowledged batch; returns its row id. Not fenced: a row written under a lease
 * that is already gone has no live owner, so the next takeover replays it — the writer must not
 * count it itself (the collector checks its instance did not change while it waited).
 */
export async function appendJournal(store: Store, me: CollectorInstance, format: JournalFormat, body: string, createdAtMs: number): Promise<number> {
  const r = await store.db
    .insertInto('outbound_journal')
    .values({ instance_id: me.instanceId, created_at_ms: createdAtMs, format, body })
    .returning('id')
    .executeTakeFirstOrThrow();
  return Number(r.id);
}

/**
 * Holds `instanceId`'s lease for the rest of the transaction, or throws FencedError. PostgreSQL:
 * FOR KEY SHARE, which a takeover's DELETE waits for but the owner's own heartbeat UPDATE does
 * not; SQLite has one writer at a time, so reading the row is enough.
 */
export async function holdLease(db: Kysely<Database>, kind: StoreKind, instanceId: string): Promise<void> {
  const lock = kind === 'postgres' ? sql`for key share` : sql``;
  const r = await sql<{ instance_id: string }>`select instance_id from outbound_collector where instance_id = ${instanceId} ${lock}`.execute(db);
  if (r.rows.length === 0) throw new FencedError(`collector instance ${instanceId} lost its lease: its journal rows were taken over by another node`);
}

/**
 * Inside a flush transaction: deletes the journal rows whose events it stores, only while
 * `owner` still holds its lease and the rows. Any row missing means they were taken over
 * (and will be replayed there): FencedError, and the whole flush rolls back.
 */
export async function deleteJournalRows(db: Kysely<Database>, kind: StoreKind, owner: string, ids: readonly number[]): Promise<void> {
  const unique = [...new Set(ids)];
  await holdLease(db, kind, owner);
  let deleted = 0;
  for (let i = 0; i < unique.length; i += 1000) {
    const r = await db.deleteFrom('outbound_journal').where('id', 'in', unique.slice(i, i + 1000)).where('instance_id', '=', owner).executeTakeFirst();
    deleted += Number(r.numDeletedRows);
  }
  if (deleted !== unique.length) throw new FencedError(`collector instance ${owner} holds ${unique.length - deleted} journal row(s) another node took over`);
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
 * Takes over dead instances: deletes their lease rows, moves their journal rows to `me` (so my
 * flush deletes them), releases the reports they were building (the build's own writes check
 * the claim) and, when the process is known dead (same host, pid gone), the targets they were
 * sending to. Returns the moved row ids, oldest first. One transaction; each row moves once
 * however many instances race for it, and a heartbeat that lands first keeps its node alive.
 */
export async function claimOrphans(store: Store, me: CollectorInstance, nowSec = systemSec()): Promise<number[]> {
  const owners = await store.db.selectFrom('outbound_journal').select('instance_id').distinct().where('instance_id', '<>', me.instanceId).execute();
  const others = await store.db.selectFrom('outbound_collector').selectAll().where('instance_id', '<>', me.instanceId).execute();
  const staleBefore = nowSec - STALE_SECONDS;
  const gone = new Set(others.filter((c) => c.hostname === me.hostname && !pidAlive(Number(c.pid))).map((c) => c.instance_id));
  const dead = others.filter((c) => gone.has(c.instance_id) || Number(c.heartbeat_at) < staleBefore).map((c) => c.instance_id);
  const registered = new Set(others.map((c) => c.instance_id));
  // Rows whose owner has no lease at all (it rejoined under a new id, or unregistered with rows left).
  const unowned = owners.map((o) => o.instance_id).filter((id) => !registered.has(id));
  if (dead.length === 0 && unowned.length === 0) return [];
  return writeTransaction(store, async (db) => {
    // Re-checked in the statement: PostgreSQL re-evaluates it on a row a heartbeat just renewed.
    const taken = dead.length === 0 ? [] : await db.deleteFrom('outbound_collector')
      .where('instance_id', 'in', dead)
      .where((eb) => eb.or([eb('heartbeat_at', '<', staleBefore), ...(gone.size ? [eb('instance_id', 'in', [...gone])] : [])]))
      .returning(['instance_id', 'claim_id'])
      .execute();
    const from = [...taken.map((t) => t.instance_id), ...unowned];
    if (from.length === 0) return [];
    // A fenced claimer must not take rows it would then fail to store.
    await holdLease(db, store.kind, me.instanceId);
    const moved = await db.updateTable('outbound_journal').set({ instance_id: me.instanceId }).where('instance_id', 'in', from).returning('id').execute();
    const claimIds = taken.map((t) => t.claim_id).filter((c): c is string => Boolean(c));
    if (claimIds.length) {
      await db.updateTable('outbound_report').set({ claimed_by: null, claimed_until: 0 })
        .where('state', '=', 'building').where('claimed_by', 'in', claimIds).execute();
      // A target claim is released only for a process known dead: one that is alive may be
      // sending right now, and releasing its claim could send the report twice.
      const deadClaims = taken.filter((t) => gone.has(t.instance_id) && t.claim_id).map((t) => t.claim_id!);
      const live = new Set(others.filter((c) => !gone.has(c.instance_id)).map((c) => c.claim_id));
      const releasable = deadClaims.filter((c) => !live.has(c));
      if (releasable.length) {
        await db.updateTable('outbound_target').set({ claimed_by: null, claimed_until: 0 })
          .where('claimed_by', 'in', releasable).where('state', 'in', ['pending', 'retrying']).execute();
      }
    }
    return moved.map((r) => Number(r.id)).sort((a, b) => a - b);
  });
}

/** The rows with these ids that `owner` holds (replayed in pages, to bound memory). */
export async function readJournal(store: Store, ids: number[], owner?: string): Promise<JournalRow[]> {
  if (ids.length === 0) return [];
  const rows = await store.db.selectFrom('outbound_journal').selectAll().where('id', 'in', ids)
    .$if(owner !== undefined, (q) => q.where('instance_id', '=', owner!))
    .orderBy('id').execute();
  return rows.map((r) => ({ id: Number(r.id), createdAtMs: Number(r.created_at_ms), format: r.format as JournalFormat, body: r.body }));
}
