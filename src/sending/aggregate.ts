/**
 * @module sending/aggregate — counts TLS session outcomes in memory (a Map per distinct
 * (hour, policy domain, TLSRPT record, policy)) and flushes the counters to the store in ONE
 * transaction. Intake never waits for the store: `flush()` swaps the batch for an empty one
 * first, then writes the old one; a failed write is merged back and retried later.
 */
import { sql, type Kysely } from 'kysely';
import type { FailureDetail, Policy } from '../rfc8460/types.js';
import type { Database, Store } from '../store/index.js';
import type { TlsSessionOutcome } from './event.js';
import { failureDetailKey, normalizeDomain, policyFingerprint } from './fingerprint.js';
import { windowBounds, type WindowFrequency } from './windows.js';

/** Why an outcome was not counted. */
export type RejectReason = 'report-delivery' | 'invalid-domain' | 'no-policies' | 'buffer-full';

type DetailFields = Omit<FailureDetail, 'failedSessionCount'>;

interface PolicyEntry {
  /** Epoch seconds of the UTC hour the events arrived in (the finest window granularity). */
  hour: number;
  policyDomain: string;
  tlsrptRecord: string | undefined;
  policy: Policy;
  /** Exact identity without the hour, the key of the fingerprint cache. */
  policyRaw: string;
  successful: number;
  failed: number;
  details: Map<string, { detail: DetailFields; count: number }>;
}

/** Resolves once the batch that holds an event is committed (HTTP's "200 only when durable"). */
class Durability {
  readonly promise: Promise<void>;
  resolve!: () => void;
  constructor() {
    this.promise = new Promise((r) => (this.resolve = r));
  }
}

class Batch {
  readonly entries = new Map<string, PolicyEntry>();
  events = 0;
  durability?: Durability;

  /** Adds another batch's counts (a failed write going back in line). */
  absorb(other: Batch): void {
    for (const [key, e] of other.entries) {
      const mine = this.entries.get(key);
      if (!mine) {
        this.entries.set(key, e);
        continue;
      }
      mine.successful += e.successful;
      mine.failed += e.failed;
      for (const [dk, d] of e.details) {
        const md = mine.details.get(dk);
        if (md) md.count += d.count;
        else mine.details.set(dk, d);
      }
    }
    this.events += other.events;
    if (other.durability) {
      const theirs = other.durability;
      (this.durability ??= new Durability()).promise.then(() => theirs.resolve());
    }
  }
}

export interface AggregatorOptions {
  store: Store;
  /** The send frequency in force for a policy domain (SettingsService.sendFrequency). */
  sendFrequency: (policyDomain: string) => WindowFrequency;
  /** Epoch milliseconds (injectable for tests). */
  clock?: () => number;
  /** Distinct keys held in memory before `add` refuses with 'buffer-full' (default 500,000). */
  maxBufferedKeys?: number;
}

/** What one store write did (for metrics and logs). */
export interface FlushResult {
  events: number;
  policyRows: number;
  detailRows: number;
  windowsCreated: number;
  ms: number;
}

const MAX_DOMAIN = 253;
// No whitespace, control characters or separators that never appear in a domain name.
const DOMAIN_OK = /^[^\s\u0000-\u001f\u007f/\\@,;"'<>()[\]{}]+$/u;
const validDomain = (d: string) => d.length > 0 && d.length <= MAX_DOMAIN && DOMAIN_OK.test(d);
const noNul = (s: string | undefined) => (s !== undefined && s.includes('\u0000') ? s.replaceAll('\u0000', '\uFFFD') : s);
const CACHE_MAX = 100_000;

/**
 * In-memory aggregation with durable flushes.
 * @example
 * const agg = new Aggregator({ store, sendFrequency: () => 'daily' });
 * agg.add(outcome);            // synchronous, never touches the store
 * await agg.flush();           // one transaction with everything added before the call
 */
export class Aggregator {
  private current = new Batch();
  private queued?: Promise<FlushResult>;
  private running?: Promise<FlushResult>;
  private readonly fingerprints = new Map<string, string>();
  private readonly detailKeys = new Map<string, string>();
  private readonly clock: () => number;
  private readonly maxKeys: number;

  constructor(private readonly opts: AggregatorOptions) {
    this.clock = opts.clock ?? Date.now;
    this.maxKeys = opts.maxBufferedKeys ?? 500_000;
  }

  /** Outcomes waiting in memory. */
  get pendingEvents(): number {
    return this.current.events;
  }

  /** Distinct keys held in memory (what bounds memory). */
  get pendingKeys(): number {
    return this.current.entries.size;
  }

  /**
   * Counts one outcome; returns why it was dropped, or undefined when counted. Synchronous.
   * Each applied policy is one session: failed → one failed session, else one successful;
   * each failure detail adds one to the count of the identical detail (libtlsrpt counting).
   */
  add(o: TlsSessionOutcome): RejectReason | undefined {
    // RFC 8460 §5.3: a report's own delivery must not be reported on (no report loops).
    if (o.isReportDelivery) return 'report-delivery';
    if (!o.policies || o.policies.length === 0) return 'no-policies';
    const recipientDomain = normalizeDomain(String(o.recipientDomain ?? ''));
    if (!validDomain(recipientDomain)) return 'invalid-domain';
    const domains: string[] = [];
    for (const ap of o.policies) {
      const d = ap.policy.policyDomain ? normalizeDomain(String(ap.policy.policyDomain)) : recipientDomain;
      if (!validDomain(d)) return 'invalid-domain';
      domains.push(d);
    }
    const batch = this.current;
    if (batch.entries.size >= this.maxKeys) return 'buffer-full';
    const hour = Math.floor(this.clock() / 3_600_000) * 3600;
    const tlsrptRecord = noNul(o.tlsrptRecord?.trim() || undefined);
    for (let i = 0; i < o.policies.length; i++) {
      const ap = o.policies[i];
      const p = ap.policy;
      const policyRaw = JSON.stringify([domains[i], p.policyType, p.policyString ?? [], p.mxHost ?? [], tlsrptRecord ?? null, p.extra ?? null]);
      const key = `${hour}|${policyRaw}`;
      let e = batch.entries.get(key);
      if (!e) {
        const policy: Policy = { policyType: p.policyType, policyString: [...(p.policyString ?? [])], policyDomain: domains[i], mxHost: [...(p.mxHost ?? [])] };
        if (p.extra) policy.extra = p.extra;
        e = { hour, policyDomain: domains[i], tlsrptRecord, policy, policyRaw, successful: 0, failed: 0, details: new Map() };
        batch.entries.set(key, e);
      }
      if (ap.failed) e.failed++;
      else e.successful++;
      for (const d of ap.failureDetails ?? []) {
        const dk = JSON.stringify([d.resultType, d.sendingMtaIp, d.receivingMxHostname, d.receivingMxHelo, d.receivingIp, d.additionalInformation, d.failureReasonCode, d.extra ?? null]);
        const slot = e.details.get(dk);
        if (slot) slot.count++;
        else e.details.set(dk, { detail: cleanDetail(d), count: 1 });
      }
    }
    batch.events++;
    return undefined;
  }

  /** A promise resolved when everything added so far has been committed. */
  durable(): Promise<void> {
    return (this.current.durability ??= new Durability()).promise;
  }

  /**
   * Writes everything added before this call in one transaction. Calls made while a flush runs
   * share one follow-up flush (group commit). Rejects when the write failed; the counts are then
   * back in memory and the next flush retries them.
   */
  flush(): Promise<FlushResult> {
    if (this.queued) return this.queued;
    // eslint-disable-next-line prefer-const
    let queued: Promise<FlushResult> | undefined;
    queued = (async () => {
      await this.running?.catch(() => {});
      if (this.queued === queued) this.queued = undefined;
      const run = this.writeCurrent();
      this.running = run;
      try {
        return await run;
      } finally {
        if (this.running === run) this.running = undefined;
      }
    })();
    this.queued = queued;
    return queued;
  }

  private async writeCurrent(): Promise<FlushResult> {
    const batch = this.current;
    if (batch.entries.size === 0) {
      batch.durability?.resolve();
      batch.durability = undefined;
      return { events: batch.events, policyRows: 0, detailRows: 0, windowsCreated: 0, ms: 0 };
    }
    this.current = new Batch();
    const t0 = performance.now();
    try {
      const r = await writeBatch(this.opts.store, batch, (e) => this.fingerprintOf(e), (raw, d) => this.detailKeyOf(raw, d), this.opts.sendFrequency, Math.floor(this.clock() / 1000));
      batch.durability?.resolve();
      return { ...r, events: batch.events, ms: performance.now() - t0 };
    } catch (e) {
      // Nothing of the batch was committed (one transaction): put it back in line.
      this.current.absorb(batch);
      throw e;
    }
  }

  private fingerprintOf(e: PolicyEntry): string {
    let fp = this.fingerprints.get(e.policyRaw);
    if (!fp) {
      if (this.fingerprints.size >= CACHE_MAX) this.fingerprints.clear();
      fp = policyFingerprint(e.policy, e.tlsrptRecord);
      this.fingerprints.set(e.policyRaw, fp);
    }
    return fp;
  }

  private detailKeyOf(raw: string, d: DetailFields): string {
    let k = this.detailKeys.get(raw);
    if (!k) {
      if (this.detailKeys.size >= CACHE_MAX) this.detailKeys.clear();
      k = failureDetailKey(d);
      this.detailKeys.set(raw, k);
    }
    return k;
  }
}

function cleanDetail(d: DetailFields): DetailFields {
  const out: DetailFields = { resultType: d.resultType };
  if (d.sendingMtaIp !== undefined) out.sendingMtaIp = d.sendingMtaIp;
  if (d.receivingMxHostname !== undefined) out.receivingMxHostname = d.receivingMxHostname;
  if (d.receivingMxHelo !== undefined) out.receivingMxHelo = d.receivingMxHelo;
  if (d.receivingIp !== undefined) out.receivingIp = d.receivingIp;
  if (d.additionalInformation !== undefined) out.additionalInformation = d.additionalInformation;
  if (d.failureReasonCode !== undefined) out.failureReasonCode = d.failureReasonCode;
  if (d.extra && Object.keys(d.extra).length) out.extra = d.extra;
  return out;
}

// ---------------------------------------------------------------------------------------------
// The store write: one transaction per batch.

type Db = Kysely<Database>;
const CHUNK = 250;

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

/** better-sqlite3 runs each statement synchronously: give I/O (the datagram socket) a turn. */
const breathe = (store: Store) => (store.kind === 'sqlite' ? new Promise<void>((r) => setImmediate(r)) : Promise.resolve());

/** Thrown when a window another node created concurrently does not cover our events: retried. */
export class WindowRaceError extends Error {
  override name = 'WindowRaceError';
}

async function writeBatch(
  store: Store,
  batch: Batch,
  fingerprintOf: (e: PolicyEntry) => string,
  detailKeyOf: (raw: string, d: DetailFields) => string,
  sendFrequency: (policyDomain: string) => WindowFrequency,
  nowSec: number,
): Promise<Omit<FlushResult, 'events' | 'ms'>> {
  // CPU work before the transaction: fingerprints of distinct policies.
  const entries = [...batch.entries.values()];
  const fps = entries.map(fingerprintOf);
  const frequencies = new Map<string, WindowFrequency>();
  const frequencyOf = (d: string) => {
    let f = frequencies.get(d);
    if (!f) frequencies.set(d, (f = sendFrequency(d)));
    return f;
  };
  return writeTransaction(store, async (db) => {
    const { windowIds, created } = await resolveOpenWindows(store, db, entries, frequencyOf, nowSec);
    // Several hours of one batch can fall in one window: merge to one row per (window, fingerprint).
    const policies = new Map<string, { window_id: number; fingerprint: string; tlsrpt_record: string | null; policy_json: string; successful: number; failed: number }>();
    const failures = new Map<string, { window_id: number; fingerprint: string; detail_key: string; detail_json: string; count: number }>();
    entries.forEach((e, i) => {
      const window_id = windowIds.get(`${e.policyDomain}\0${e.hour}`)!;
      const fingerprint = fps[i];
      const pk = `${window_id}\0${fingerprint}`;
      const row = policies.get(pk);
      if (row) {
        row.successful += e.successful;
        row.failed += e.failed;
      } else {
        policies.set(pk, { window_id, fingerprint, tlsrpt_record: e.tlsrptRecord ?? null, policy_json: JSON.stringify(e.policy), successful: e.successful, failed: e.failed });
      }
      for (const [raw, d] of e.details) {
        const detail_key = detailKeyOf(raw, d.detail);
        const fk = `${pk}\0${detail_key}`;
        const f = failures.get(fk);
        if (f) f.count += d.count;
        else failures.set(fk, { window_id, fingerprint, detail_key, detail_json: JSON.stringify(d.detail), count: d.count });
      }
    });
    // A stable row order keeps concurrent nodes from deadlocking on PostgreSQL.
    const policyRows = [...policies.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map((x) => x[1]);
    const failureRows = [...failures.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map((x) => x[1]);
    for (let i = 0; i < policyRows.length; i += CHUNK) {
      await db
        .insertInto('outbound_policy')
        .values(policyRows.slice(i, i + CHUNK))
        .onConflict((oc) =>
          oc.columns(['window_id', 'fingerprint']).doUpdateSet((eb) => ({
            successful: eb('outbound_policy.successful', '+', eb.ref('excluded.successful')),
            failed: eb('outbound_policy.failed', '+', eb.ref('excluded.failed')),
          })),
        )
        .execute();
      await breathe(store);
    }
    for (let i = 0; i < failureRows.length; i += CHUNK) {
      await db
        .insertInto('outbound_failure')
        .values(failureRows.slice(i, i + CHUNK))
        .onConflict((oc) => oc.columns(['window_id', 'fingerprint', 'detail_key']).doUpdateSet((eb) => ({ count: eb('outbound_failure.count', '+', eb.ref('excluded.count')) })))
        .execute();
      await breathe(store);
    }
    return { policyRows: policyRows.length, detailRows: failureRows.length, windowsCreated: created };
  });
}

/**
 * Finds (locking FOR SHARE on PostgreSQL) or creates the OPEN window of each (policy domain,
 * hour). Only open windows are counted into (CONTRACTS.md): once the delivery closer has
 * closed a window, later events open a new one. A new window's frequency is the one in force
 * now for the domain (settings.md: the frequency at a window's first event decides it).
 */
async function resolveOpenWindows(
  store: Store,
  db: Db,
  entries: PolicyEntry[],
  frequencyOf: (d: string) => WindowFrequency,
  nowSec: number,
): Promise<{ windowIds: Map<string, number>; created: number }> {
  const wanted = new Map<string, { policyDomain: string; hour: number }>();
  for (const e of entries) wanted.set(`${e.policyDomain}\0${e.hour}`, { policyDomain: e.policyDomain, hour: e.hour });
  let minHour = Infinity;
  for (const w of wanted.values()) minHour = Math.min(minHour, w.hour);
  type W = { id: number; start: number; end: number };
  const open = new Map<string, W[]>();
  const load = async (domains: string[]) => {
    for (let i = 0; i < domains.length; i += 500) {
      let q = db
        .selectFrom('outbound_window')
        .select(['id', 'policy_domain', 'window_start', 'window_end'])
        .where('state', '=', 'open')
        .where('policy_domain', 'in', domains.slice(i, i + 500))
        .where('window_end', '>', minHour);
      if (store.kind === 'postgres') q = q.forShare();
      for (const r of await q.execute()) {
        const list = open.get(r.policy_domain) ?? [];
        if (!list.some((w) => w.id === Number(r.id))) list.push({ id: Number(r.id), start: Number(r.window_start), end: Number(r.window_end) });
        open.set(r.policy_domain, list);
      }
      await breathe(store);
    }
  };
  const cover = (d: string, hour: number) =>
    (open.get(d) ?? []).filter((w) => w.start <= hour && hour < w.end).sort((a, b) => a.start - b.start || a.id - b.id)[0];

  await load([...new Set([...wanted.values()].map((w) => w.policyDomain))]);
  const windowIds = new Map<string, number>();
  const toCreate = new Map<string, { policy_domain: string; window_start: number; window_end: number; frequency: WindowFrequency; state: 'open'; created_at: number }>();
  for (const [key, w] of wanted) {
    const found = cover(w.policyDomain, w.hour);
    if (found) {
      windowIds.set(key, found.id);
      continue;
    }
    const frequency = frequencyOf(w.policyDomain);
    const b = windowBounds(frequency, w.hour);
    toCreate.set(`${w.policyDomain}\0${b.start}`, { policy_domain: w.policyDomain, window_start: b.start, window_end: b.end, frequency, state: 'open', created_at: nowSec });
  }
  let created = 0;
  if (toCreate.size) {
    const rows = [...toCreate.values()];
    for (let i = 0; i < rows.length; i += CHUNK) {
      const inserted = await db
        .insertInto('outbound_window')
        .values(rows.slice(i, i + CHUNK))
        // Another node may have created the same window meanwhile: keep its row.
        .onConflict((oc) => oc.columns(['policy_domain', 'window_start']).where('state', '=', sql.lit('open') as never).doNothing())
        .returning(['id', 'policy_domain', 'window_start', 'window_end'])
        .execute();
      created += inserted.length;
      for (const r of inserted) {
        const list = open.get(r.policy_domain) ?? [];
        list.push({ id: Number(r.id), start: Number(r.window_start), end: Number(r.window_end) });
        open.set(r.policy_domain, list);
      }
      await breathe(store);
    }
    if (created < toCreate.size) await load([...new Set(rows.map((r) => r.policy_domain))]);
    for (const [key, w] of wanted) {
      if (windowIds.has(key)) continue;
      const found = cover(w.policyDomain, w.hour);
      if (!found) throw new WindowRaceError(`no open window covers ${w.policyDomain} at ${w.hour} after a concurrent create; retrying`);
      windowIds.set(key, found.id);
    }
  }
  return { windowIds, created };
}
