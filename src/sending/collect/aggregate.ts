/**
 * @module sending/collect/aggregate — counts TLS session outcomes in memory (a Map per distinct
 * (hour, report domain, TLSRPT record, policy)) and flushes the counters to the store in ONE
 * transaction. Intake never waits for the store: `flush()` swaps the batch for an empty one
 * first, then writes the old one; a failed write is merged back and retried later.
 */
import type { FailureDetail, Policy } from '../../rfc8460/types.js';
import type { Store } from '../../store/index.js';
import { writeCounts, type PolicyCounts } from './aggregate-store.js';
import type { TlsSessionOutcome } from './event.js';
import { failureDetailKey, policyFingerprint } from './fingerprint.js';
import type { WindowFrequency } from '../windows/bounds.js';
import { normalizeDomain } from '../../common/domain.js';
import { greetingName } from './greeting.js';

export { WindowRaceError } from './aggregate-store.js';

/** Why an outcome was not counted. */
export type RejectReason = 'report-delivery' | 'invalid-domain' | 'no-policies' | 'buffer-full';

type DetailFields = Omit<FailureDetail, 'failedSessionCount'>;

interface PolicyEntry {
  /** Epoch seconds of the UTC hour the events arrived in (the finest window granularity). */
  hour: number;
  /**
   * RFC 8460 §4.4: one report per domain that published the TLSRPT record — the recipient
   * domain (libtlsrpt `d`), not the policy's: a DANE policy's domain is the MX host.
   */
  reportDomain: string;
  policyDomain: string;
  tlsrptRecord: string | undefined;
  policy: Policy;
  /** JSON of `policy.extra` (rare), part of the identity. */
  extraJson: string | null;
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

const sameStrings = (a: readonly string[], b: readonly string[] | undefined) => {
  const bb = b ?? [];
  if (a.length !== bb.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== bb[i]) return false;
  return true;
};

/**
 * One generation of counts. Entries are found by report domain, then compared field by field:
 * far cheaper per event than building and hashing a key string (a domain has one or two).
 */
class Batch {
  private readonly byDomain = new Map<string, PolicyEntry[]>();
  size = 0;
  events = 0;
  durability?: Durability;
  /** Journal rows whose events are in this batch: deleted in the transaction that stores them. */
  journalIds: number[] = [];

  *entries(): IterableIterator<PolicyEntry> {
    for (const list of this.byDomain.values()) yield* list;
  }

  find(hour: number, reportDomain: string, policyDomain: string, p: Policy, tlsrptRecord: string | undefined, extraJson: string | null): PolicyEntry | undefined {
    const list = this.byDomain.get(reportDomain);
    if (!list) return undefined;
    for (const e of list) {
      if (e.hour === hour && e.policyDomain === policyDomain && e.tlsrptRecord === tlsrptRecord && e.policy.policyType === p.policyType && e.extraJson === extraJson
        && sameStrings(e.policy.policyString, p.policyString) && sameStrings(e.policy.mxHost, p.mxHost)) return e;
    }
    return undefined;
  }

  insert(e: PolicyEntry): void {
    const list = this.byDomain.get(e.reportDomain);
    if (list) list.push(e);
    else this.byDomain.set(e.reportDomain, [e]);
    this.size++;
  }

  /** Adds another batch's counts (a failed write going back in line). */
  absorb(other: Batch): void {
    for (const e of other.entries()) {
      const mine = this.find(e.hour, e.reportDomain, e.policyDomain, e.policy, e.tlsrptRecord, e.extraJson);
      if (!mine) {
        this.insert(e);
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
    if (other.journalIds.length) this.journalIds = this.journalIds.concat(other.journalIds);
    if (other.durability) {
      const theirs = other.durability;
      (this.durability ??= new Durability()).promise.then(() => theirs.resolve());
    }
  }
}

export interface AggregatorOptions {
  store: Store;
  /** The send frequency in force for a report domain (SettingsService.sendFrequency). */
  sendFrequency: (reportDomain: string) => WindowFrequency;
  /** Epoch milliseconds (injectable for tests). */
  clock?: () => number;
  /** Distinct keys held in memory before `add` refuses with 'buffer-full' (default 500,000). */
  maxBufferedKeys?: number;
  /** The collector instance whose lease fences the journal rows a flush deletes (journal.ts). */
  journalOwner?: () => string;
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
type WellFormed = { isWellFormed(): boolean; toWellFormed(): string };
const validDomain = (d: string) => d.length > 0 && d.length <= MAX_DOMAIN && DOMAIN_OK.test(d) && (d as unknown as WellFormed).isWellFormed();
// Text columns take neither NUL (PostgreSQL) nor lone surrogates (PostgreSQL's jsonb): replaced at the boundary.
const clean = (s: string | undefined) => (s === undefined ? s : ((s.includes('\u0000') ? s.replaceAll('\u0000', '\uFFFD') : s) as unknown as WellFormed).toWellFormed());
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
  /** Exact policy identity → [fingerprint, JSON]; exact detail identity → [key, JSON]. Bounded. */
  private readonly fingerprints = new Map<string, [string, string]>();
  private readonly detailKeys = new Map<string, [string, string]>();
  private readonly domains = new Map<string, string | null>();
  private readonly records = new Map<string, string>();
  private readonly clock: () => number;
  private readonly maxKeys: number;
  /** Bumped by discard(): a flush of an older generation that fails is dropped, not put back. */
  private generation = 0;

  constructor(private readonly opts: AggregatorOptions) {
    this.clock = opts.clock ?? Date.now;
    this.maxKeys = opts.maxBufferedKeys ?? 500_000;
  }

  /** Outcomes waiting in memory. */
  get pendingEvents(): number {
    return this.current.events;
  }

  /** Journal rows whose events wait in memory. */
  get pendingJournalRows(): number {
    return this.current.journalIds.length;
  }

  /** Distinct keys held in memory (what bounds memory). */
  get pendingKeys(): number {
    return this.current.size;
  }

  /**
   * Counts one outcome; returns why it was dropped, or undefined when counted. Synchronous.
   * Each applied policy is one session: failed → one failed session, else one successful;
   * each failure detail adds one to the count of the identical detail (libtlsrpt counting).
   */
  add(o: TlsSessionOutcome, atMs?: number): RejectReason | undefined {
    // RFC 8460 §5.3: a report's own delivery must not be reported on (no report loops).
    if (o.isReportDelivery) return 'report-delivery';
    if (!o.policies || o.policies.length === 0) return 'no-policies';
    // The report domain is the recipient domain; a library caller that gives none reports
    // each policy under the policy's own domain.
    const recipientDomain = o.recipientDomain ? this.domainOf(o.recipientDomain) : undefined;
    if (recipientDomain === null) return 'invalid-domain';
    const policies = o.policies;
    let domains: string[] | undefined;
    for (const [i, { policy: { policyDomain: raw } }] of policies.entries()) {
      const d: string | null | undefined = raw ? this.domainOf(raw) : recipientDomain;
      if (d === null || d === undefined) return 'invalid-domain';
      if (d !== recipientDomain) (domains ??= policies.map(() => recipientDomain ?? ''))[i] = d;
    }
    const batch = this.current;
    if (batch.size >= this.maxKeys) return 'buffer-full';
    const hour = Math.floor((atMs ?? this.clock()) / 3_600_000) * 3600;
    const tlsrptRecord = o.tlsrptRecord === undefined ? undefined : this.recordOf(o.tlsrptRecord);
    for (const [i, ap] of policies.entries()) {
      const p = ap.policy;
      const policyDomain = domains?.[i] ?? recipientDomain!;
      const reportDomain = recipientDomain ?? policyDomain;
      const extraJson = p.extra ? JSON.stringify(p.extra) : null;
      let e = batch.find(hour, reportDomain, policyDomain, p, tlsrptRecord, extraJson);
      if (!e) {
        const policy: Policy = { policyType: p.policyType, policyString: [...(p.policyString ?? [])], policyDomain, mxHost: [...(p.mxHost ?? [])] };
        if (p.extra) policy.extra = p.extra;
        e = { hour, reportDomain, policyDomain, tlsrptRecord, policy, extraJson, successful: 0, failed: 0, details: new Map() };
        batch.insert(e);
      }
      if (ap.failed) e.failed++;
      else e.successful++;
      for (const d of ap.failureDetails ?? []) {
        // The greeting name only (sending/collect/greeting): the raw EHLO reply never reaches a report.
        const helo = d.receivingMxHelo === undefined ? undefined : greetingName(d.receivingMxHelo);
        const dk = JSON.stringify([d.resultType, d.sendingMtaIp, d.receivingMxHostname, helo, d.receivingIp, d.additionalInformation, d.failureReasonCode, d.extra ?? null]);
        const slot = e.details.get(dk);
        if (slot) slot.count++;
        else e.details.set(dk, { detail: cleanDetail(d, helo), count: 1 });
      }
    }
    batch.events++;
    return undefined;
  }

  /** Normalised, validated domain (null: invalid), cached: MTAs repeat the same few thousand. */
  private domainOf(raw: unknown): string | null {
    if (typeof raw !== 'string') return null;
    let d = this.domains.get(raw);
    if (d === undefined) {
      const n = normalizeDomain(raw);
      d = validDomain(n) ? n : null;
      if (this.domains.size >= CACHE_MAX) this.domains.clear();
      this.domains.set(raw, d);
    }
    return d;
  }

  private recordOf(raw: string): string | undefined {
    let r = this.records.get(raw);
    if (r === undefined) {
      r = clean(raw.trim()) ?? '';
      if (this.records.size >= CACHE_MAX) this.records.clear();
      this.records.set(raw, r);
    }
    return r || undefined;
  }

  /**
   * Marks a journal row as held by the current batch (call right after adding its outcomes, in
   * the same synchronous turn): the flush that stores them deletes the row in its transaction.
   */
  attachJournal(id: number): void {
    this.current.journalIds.push(id);
  }

  /**
   * Drops everything held in memory (a fenced collector: its journaled events are replayed by
   * the node that took them over); returns what was dropped.
   */
  discard(): { events: number; journalRows: number } {
    const b = this.current;
    this.current = new Batch();
    this.generation++;
    return { events: b.events, journalRows: b.journalIds.length };
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
    // Declared before it is assigned: the flush below compares itself with `this.queued`.
    let queued: Promise<FlushResult> | undefined = undefined;
    // eslint-disable-next-line prefer-const -- assigned after declaration on purpose (see above)
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
    if (batch.size === 0 && batch.journalIds.length === 0) {
      batch.durability?.resolve();
      batch.durability = undefined;
      return { events: batch.events, policyRows: 0, detailRows: 0, windowsCreated: 0, ms: 0 };
    }
    this.current = new Batch();
    const generation = this.generation;
    const owner = this.opts.journalOwner?.();
    const t0 = performance.now();
    try {
      const rows: PolicyCounts[] = [];
      for (const e of batch.entries()) {
        const details: PolicyCounts['details'] = [];
        for (const [raw, d] of e.details) {
          const [detailKey, detailJson] = this.detailKeyOf(raw, d.detail);
          details.push({ detailKey, detailJson, count: d.count });
        }
        const [fingerprint, policyJson] = this.fingerprintOf(e);
        rows.push({ reportDomain: e.reportDomain, hour: e.hour, fingerprint, tlsrptRecord: e.tlsrptRecord ?? null, policyJson, successful: e.successful, failed: e.failed, details });
      }
      const r = await writeCounts(this.opts.store, rows, this.opts.sendFrequency, Math.floor(this.clock() / 1000), batch.journalIds, owner);
      batch.durability?.resolve();
      return { ...r, events: batch.events, ms: performance.now() - t0 };
    } catch (e) {
      // Nothing of the batch was committed (one transaction): put it back in line, unless it
      // was discarded meanwhile.
      if (generation === this.generation) this.current.absorb(batch);
      throw e;
    }
  }

  private fingerprintOf(e: PolicyEntry): [string, string] {
    // Exact identity (once per key and flush, not per event).
    const raw = JSON.stringify([e.policyDomain, e.policy.policyType, e.policy.policyString, e.policy.mxHost, e.tlsrptRecord ?? null, e.extraJson]);
    let fp = this.fingerprints.get(raw);
    if (!fp) {
      if (this.fingerprints.size >= CACHE_MAX) this.fingerprints.clear();
      fp = [policyFingerprint(e.policy, e.tlsrptRecord), JSON.stringify(e.policy)];
      this.fingerprints.set(raw, fp);
    }
    return fp;
  }

  private detailKeyOf(raw: string, d: DetailFields): [string, string] {
    let k = this.detailKeys.get(raw);
    if (!k) {
      if (this.detailKeys.size >= CACHE_MAX) this.detailKeys.clear();
      k = [failureDetailKey(d), JSON.stringify(d)];
      this.detailKeys.set(raw, k);
    }
    return k;
  }
}

function cleanDetail(d: DetailFields, helo: string | undefined): DetailFields {
  const out: DetailFields = { resultType: d.resultType };
  if (d.sendingMtaIp !== undefined) out.sendingMtaIp = d.sendingMtaIp;
  if (d.receivingMxHostname !== undefined) out.receivingMxHostname = d.receivingMxHostname;
  if (helo !== undefined) out.receivingMxHelo = helo;
  if (d.receivingIp !== undefined) out.receivingIp = d.receivingIp;
  if (d.additionalInformation !== undefined) out.additionalInformation = d.additionalInformation;
  if (d.failureReasonCode !== undefined) out.failureReasonCode = d.failureReasonCode;
  if (d.extra && Object.keys(d.extra).length) out.extra = d.extra;
  return out;
}
