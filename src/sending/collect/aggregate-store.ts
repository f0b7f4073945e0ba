/**
 * @module sending/collect/aggregate-store — the collector's store write: one transaction per flush that
 * finds or opens each report domain's OPEN window and adds the counters. Rows travel as ONE JSON
 * parameter per statement (SQLite `json_each`, PostgreSQL `jsonb_array_elements`): a flush of
 * 10,000 policies is a handful of statements, not thousands, and the SQL text never changes.
 */
import { sql, type Kysely } from '../../store/kysely.js';
import type { Database, Store } from '../../store/index.js';
import { bulkInsert, type BulkColumn } from '../../store/bulk-insert.js';
import { windowBounds, type WindowFrequency } from '../windows/bounds.js';
import { writeTransaction } from '../../store/transaction.js';
import { deleteJournalRows } from './journal.js';

/** The counters of one (hour, report domain, policy + record) key, ready for the store. */
export interface PolicyCounts {
  /** The window key: the domain whose TLSRPT record names the targets (RFC 8460 §4.4). */
  reportDomain: string;
  /** Epoch seconds of the UTC hour the events arrived in. */
  hour: number;
  fingerprint: string;
  tlsrptRecord: string | null;
  policyJson: string;
  successful: number;
  failed: number;
  details: { detailKey: string; detailJson: string; count: number }[];
}

type Db = Kysely<Database>;

/** Rows per statement: large enough to be cheap, small enough to let the event loop breathe between. */
const CHUNK = 1000;
const POLICY_COLS: BulkColumn[] = [['window_id', 'int'], ['fingerprint', 'text'], ['tlsrpt_record', 'text'], ['policy_json', 'text'], ['successful', 'int'], ['failed', 'int']];
const FAILURE_COLS: BulkColumn[] = [['window_id', 'int'], ['fingerprint', 'text'], ['detail_key', 'text'], ['detail_json', 'text'], ['count', 'int']];
const WINDOW_COLS: BulkColumn[] = [['report_domain', 'text'], ['window_start', 'int'], ['window_end', 'int'], ['frequency', 'text'], ['state', 'text'], ['created_at', 'int']];

/** better-sqlite3 runs each statement synchronously: give I/O (the datagram socket) a turn. */
const breathe = (store: Store) => (store.kind === 'sqlite' ? new Promise<void>((r) => setImmediate(r)) : Promise.resolve());

/** Thrown when a window another node created concurrently does not cover our events: the flush is retried. */
export class WindowRaceError extends Error {
  override name = 'WindowRaceError';
}

/** Adds the counters of `rows` in one transaction; returns what it wrote. */
export async function writeCounts(
  store: Store,
  rows: PolicyCounts[],
  sendFrequency: (reportDomain: string) => WindowFrequency,
  nowSec: number,
  journalIds: readonly number[] = [],
  journalOwner?: string,
): Promise<{ policyRows: number; detailRows: number; windowsCreated: number }> {
  const frequencies = new Map<string, WindowFrequency>();
  const frequencyOf = (d: string) => {
    let f = frequencies.get(d);
    if (!f) frequencies.set(d, (f = sendFrequency(d)));
    return f;
  };
  return writeTransaction(store, async (db) => {
    const { windowIds, created } = await resolveOpenWindows(store, db, rows, frequencyOf, nowSec);
    // Several hours of one batch can fall in one window: one row per (window, fingerprint).
    const policies = new Map<string, [number, string, string | null, string, number, number]>();
    const failures = new Map<string, [number, string, string, string, number]>();
    for (const r of rows) {
      const windowId = windowIds.get(`${r.reportDomain}\0${r.hour}`)!;
      const pk = `${windowId}\0${r.fingerprint}`;
      const p = policies.get(pk);
      if (p) {
        p[4] += r.successful;
        p[5] += r.failed;
      } else {
        policies.set(pk, [windowId, r.fingerprint, r.tlsrptRecord, r.policyJson, r.successful, r.failed]);
      }
      for (const d of r.details) {
        const fk = `${pk}\0${d.detailKey}`;
        const f = failures.get(fk);
        if (f) f[4] += d.count;
        else failures.set(fk, [windowId, r.fingerprint, d.detailKey, d.detailJson, d.count]);
      }
    }
    // A stable row order keeps concurrent nodes from deadlocking on PostgreSQL (SQLite has one writer).
    const sorted = <T>(m: Map<string, T>) =>
      store.kind === 'sqlite' ? [...m.values()] : [...m.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map((x) => x[1]);
    const policyRows = sorted(policies);
    const failureRows = sorted(failures);
    for (let i = 0; i < policyRows.length; i += CHUNK) {
      await db.executeQuery(bulkInsert(store.kind, 'outbound_policy', POLICY_COLS, policyRows.slice(i, i + CHUNK),
        'on conflict (window_id, fingerprint) do update set successful = outbound_policy.successful + excluded.successful, failed = outbound_policy.failed + excluded.failed'));
      await breathe(store);
    }
    for (let i = 0; i < failureRows.length; i += CHUNK) {
      await db.executeQuery(bulkInsert(store.kind, 'outbound_failure', FAILURE_COLS, failureRows.slice(i, i + CHUNK),
        'on conflict (window_id, fingerprint, detail_key) do update set count = outbound_failure.count + excluded.count'));
      await breathe(store);
    }
    // The journal rows of these events go in the same transaction: stored exactly once. With an
    // owner, only while its lease holds (fencing: rows another node took over roll this back).
    if (journalOwner !== undefined && journalIds.length) await deleteJournalRows(db, store.kind, journalOwner, journalIds);
    else {
      for (let i = 0; i < journalIds.length; i += CHUNK) {
        await db.deleteFrom('outbound_journal').where('id', 'in', journalIds.slice(i, i + CHUNK)).execute();
      }
    }
    return { policyRows: policyRows.length, detailRows: failureRows.length, windowsCreated: created };
  });
}

type OpenWindow = { id: number; start: number; end: number };

/**
 * Finds (locking FOR SHARE on PostgreSQL) or creates the OPEN window of each (report domain,
 * hour). Only open windows are counted into (docs/ARCHITECTURE.md, "Locking"): once the delivery closer has
 * closed a window, later events open a new one. A new window's frequency is the one in force
 * now for the domain (docs/spec/settings.md: the frequency at a window's first event decides it).
 */
async function resolveOpenWindows(
  store: Store,
  db: Db,
  rows: PolicyCounts[],
  frequencyOf: (d: string) => WindowFrequency,
  nowSec: number,
): Promise<{ windowIds: Map<string, number>; created: number }> {
  const wanted = new Map<string, { reportDomain: string; hour: number }>();
  let minHour = Infinity;
  for (const r of rows) {
    wanted.set(`${r.reportDomain}\0${r.hour}`, { reportDomain: r.reportDomain, hour: r.hour });
    minHour = Math.min(minHour, r.hour);
  }
  const open = new Map<string, OpenWindow[]>();
  const remember = (domain: string, w: OpenWindow) => {
    const list = open.get(domain);
    if (!list) open.set(domain, [w]);
    else if (!list.some((x) => x.id === w.id)) list.push(w);
  };
  const load = async (domains: string[]) => {
    for (let i = 0; i < domains.length; i += CHUNK) {
      const list = JSON.stringify(domains.slice(i, i + CHUNK));
      const inList = store.kind === 'postgres' ? sql`(select jsonb_array_elements_text(${list}::jsonb))` : sql`(select value from json_each(${list}))`;
      const lock = store.kind === 'postgres' ? sql`for share` : sql``;
      const found = await sql<{ id: number; report_domain: string; window_start: number; window_end: number }>`
        select id, report_domain, window_start, window_end from outbound_window
        where state = 'open' and window_end > ${minHour} and report_domain in ${inList} ${lock}`.execute(db);
      for (const w of found.rows) remember(w.report_domain, { id: Number(w.id), start: Number(w.window_start), end: Number(w.window_end) });
      await breathe(store);
    }
  };
  // The earliest open window covering the hour (windows are aligned to hours or longer).
  const cover = (d: string, hour: number) => {
    let best: OpenWindow | undefined;
    for (const w of open.get(d) ?? []) if (w.start <= hour && hour < w.end && (!best || w.start < best.start || (w.start === best.start && w.id < best.id))) best = w;
    return best;
  };

  await load([...new Set([...wanted.values()].map((w) => w.reportDomain))].sort());
  const windowIds = new Map<string, number>();
  const toCreate = new Map<string, [string, number, number, WindowFrequency]>();
  for (const [key, w] of wanted) {
    const found = cover(w.reportDomain, w.hour);
    if (found) {
      windowIds.set(key, found.id);
      continue;
    }
    const frequency = frequencyOf(w.reportDomain);
    const b = windowBounds(frequency, w.hour);
    toCreate.set(`${w.reportDomain}\0${b.start}`, [w.reportDomain, b.start, b.end, frequency]);
  }
  if (toCreate.size === 0) return { windowIds, created: 0 };

  let created = 0;
  // In key order, as the counters: two nodes creating the same new windows in different orders
  // each waited for the other's uncommitted row ("deadlock detected", bench ingest-http, 3 nodes).
  const newRows = [...toCreate.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map((x) => x[1]);
  for (let i = 0; i < newRows.length; i += CHUNK) {
    // Another node may have created the same window meanwhile: keep its row (partial unique index).
    const inserted = await db.executeQuery<{ id: number; report_domain: string; window_start: number; window_end: number }>(
      bulkInsert(store.kind, 'outbound_window', WINDOW_COLS, newRows.slice(i, i + CHUNK).map((r) => [...r, 'open', nowSec]),
        "on conflict (report_domain, window_start) where state = 'open' do nothing returning id, report_domain, window_start, window_end"));
    created += inserted.rows.length;
    for (const w of inserted.rows) remember(w.report_domain, { id: Number(w.id), start: Number(w.window_start), end: Number(w.window_end) });
    await breathe(store);
  }
  if (created < toCreate.size) await load([...new Set(newRows.map((r) => r[0]))]);
  for (const [key, w] of wanted) {
    if (windowIds.has(key)) continue;
    const found = cover(w.reportDomain, w.hour);
    if (!found) throw new WindowRaceError(`no open window covers ${w.reportDomain} at ${w.hour} after a concurrent create; the flush is retried`);
    windowIds.set(key, found.id);
  }
  return { windowIds, created };
}
