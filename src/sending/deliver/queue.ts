/**
 * @module sending/deliver/queue — delivers built reports to their rua targets, exactly once
 * per accepting target: each (report, target) row is claimed by one process (an atomic
 * `UPDATE … WHERE claimed_until < now` on SQLite, `FOR UPDATE SKIP LOCKED` on PostgreSQL),
 * tried, and its outcome written back under the same claim. A target that accepted is never
 * tried again; temporary failures are retried with backoff for 24 hours (RFC 8460 §5.5).
 */
import { sql } from '../../store/kysely.js';
import type { Logger } from '../../common/log.js';
import type { Store } from '../../store/index.js';
import type { OutboundTargetState } from '../../store/tables/delivery.js';
import { findDkimKey, buildReportMessage, signReportMessage, type DkimKey, type ReportMailer } from './mail.js';
import { postReport, type HttpsDeliveryOptions } from './https.js';
import { nextAttemptAt, DEFAULT_RETRY_POLICY, oneLine, type AttemptOutcome, type RetryPolicy } from './retry.js';
import { checkedReportValues, type ReportSettingsSource } from '../report/settings-view.js';
import { deliveryMetrics } from './metrics.js';
import { boundedLabel } from '../../common/metrics.js';
import { isoSeconds } from '../../common/time.js';
import { writeTransaction } from '../../store/transaction.js';

/** What every sending stage is given: the store, a log, the clock, chance, this node's claim name and the settings. */
export interface SendingContext {
  store: Store;
  log: Logger;
  /** Epoch seconds (injected: tests move time). */
  clock: () => number;
  /** Uniform in [0, 1): retry jitter, the send spread. */
  random: () => number;
  /** This process's claim name (host:pid:random). */
  nodeId: string;
  settings: ReportSettingsSource;
  /** How long a claim holds (seconds). */
  leaseSeconds?: number;
}

export interface DeliveryDeps extends SendingContext {
  /** Undefined when no `relay` is configured: mailto targets wait (temporary failure). */
  mailer?: ReportMailer;
  /** The signing keys, or "mta" when the MTA signs report mail (delivery.dkim). */
  dkimKeys: DkimKey[] | 'mta';
  https: Omit<HttpsDeliveryOptions, 'log'>;
  retry?: RetryPolicy;
}

/** What happened to one target in one run (printed by `outbound send`, logged by the scheduler). */
export interface TargetAttempt {
  reportRowId: number;
  reportId: string;
  reportDomain: string;
  uri: string;
  state: OutboundTargetState;
  attempts: number;
  detail: string;
  nextAttemptAt?: number;
}

const ACTIVE: OutboundTargetState[] = ['pending', 'retrying'];

export class DeliveryQueue {
  private readonly retry: RetryPolicy;
  private readonly lease: number;
  constructor(private readonly deps: DeliveryDeps) {
    this.retry = deps.retry ?? DEFAULT_RETRY_POLICY;
    this.lease = deps.leaseSeconds ?? 600;
  }

  /**
   * Claims and tries every due target (with `force`: every pending or retrying target of a
   * built report, whatever its due time). Returns what happened to each claimed target.
   */
  async runDue(opts: { force?: boolean; limit?: number; concurrency?: number } = {}): Promise<TargetAttempt[]> {
    const results: TargetAttempt[] = [];
    const limit = opts.limit ?? 200;
    // A forced run tries each target once: a target that failed for now is 'retrying' and
    // unclaimed again at once, so without this cut-off a relay that is down (or none set) made
    // `outbound send --now` with more than `limit` targets retry them forever.
    const runStarted = this.deps.clock();
    for (;;) {
      const ids = await this.claim(limit, Boolean(opts.force), runStarted);
      if (ids.length === 0) break;
      const rows = await this.load(ids);
      const concurrency = Math.max(1, opts.concurrency ?? 4);
      let next = 0;
      await Promise.all(Array.from({ length: Math.min(concurrency, rows.length) }, async () => {
        for (let row = rows[next++]; row !== undefined; row = rows[next++]) {
          results.push(await this.attempt(row));
        }
      }));
      if (ids.length < limit) break;
    }
    return results;
  }

  /**
   * Earliest time a target becomes due (for the scheduler's next wake-up), or undefined: the
   * least of max(next attempt, report due) over active targets of pending reports. Asked after
   * every tick, so it is ordered reads that stop at their first match instead of an aggregate over
   * every active target (50–90 ms at 100,000 on SQLite, holding the whole service):
   * A. the first target, in next-attempt order, whose report is due by then: its next attempt;
   * B. the first report due in the future, in due order, with a target waiting only for it;
   * C. when A is not already due: any target due now although it was waiting for its report.
   */
  async nextDueAt(): Promise<number | undefined> {
    const { db } = this.deps.store;
    const now = this.deps.clock();
    const active = sql<boolean>`t.state in (${sql.join(ACTIVE.map((s) => sql.lit(s)))})`;
    // Targets as the outer loop, on their partial index (migration 0545), as in claim().
    const targets = () => db.selectFrom('outbound_target as t')
      .crossJoin('outbound_report as r')
      .whereRef('r.id', '=', 't.outbound_report_id')
      .where(active)
      .where('r.state', '=', 'pending')
      .select('t.next_attempt_at as at')
      .orderBy('t.next_attempt_at')
      .limit(1);
    const [a, b] = await Promise.all([
      targets().whereRef('r.due_at', '<=', 't.next_attempt_at').executeTakeFirst(),
      db.selectFrom('outbound_report as r')
        .where('r.state', '=', 'pending')
        .where('r.due_at', '>', now)
        .where((eb) => eb.exists(eb.selectFrom('outbound_target as t')
          .select('t.id')
          .whereRef('t.outbound_report_id', '=', 'r.id')
          .where('t.state', 'in', ACTIVE)
          .whereRef('t.next_attempt_at', '<', 'r.due_at')))
        .select('r.due_at as at')
        .orderBy('r.due_at')
        .limit(1)
        .executeTakeFirst(),
    ]);
    const at = [a?.at, b?.at].filter((x) => x !== null && x !== undefined).map(Number);
    if (!at.some((x) => x <= now)) {
      const c = await targets().where('t.next_attempt_at', '<=', now).where('r.due_at', '<=', now).executeTakeFirst();
      if (c) at.push(now);
    }
    return at.length ? Math.min(...at) : undefined;
  }

  private async claim(limit: number, force: boolean, runStarted: number): Promise<number[]> {
    const { store, nodeId } = this.deps;
    const now = this.deps.clock();
    // Targets first, walked in claim order on their partial index (migration 0545), which needs
    // its predicate spelt literally; CROSS JOIN keeps SQLite from starting at the reports and
    // sorting every active target (80 ms a claim at 100,000 of them). PostgreSQL plans it as a join.
    const candidates = store.db
      .selectFrom('outbound_target as t')
      .crossJoin('outbound_report as r')
      .whereRef('r.id', '=', 't.outbound_report_id')
      .select('t.id')
      .where(sql<boolean>`t.state in (${sql.join(ACTIVE.map((s) => sql.lit(s)))})`)
      .where('r.state', '=', 'pending')
      .where('t.claimed_until', '<', now)
      .$if(!force, (q) => q.where('t.next_attempt_at', '<=', now).where('r.due_at', '<=', now))
      .$if(force, (q) => q.where((eb) => eb.or([eb('t.last_attempt_at', 'is', null), eb('t.last_attempt_at', '<', runStarted)])))
      .orderBy('t.next_attempt_at')
      .orderBy('t.id')
      .limit(limit)
      .$if(store.kind === 'postgres', (q) => q.forUpdate(['t']).skipLocked());
    // One statement: SQLite runs it inside one write transaction, so two processes cannot both
    // match `claimed_until < now` for the same row; on PostgreSQL the locked rows are skipped
    // by the other nodes and the re-checked condition excludes rows claimed meanwhile. The
    // candidates are a materialized CTE: as `IN (subquery)` PostgreSQL may re-run the subquery
    // for every row it updates, each run skipping the rows already locked and taking the next
    // `limit`, so one node claimed every due target (see the scheduler's closeDueWindows).
    const rows = await writeTransaction(store, (trx) => trx.with((w) => w('candidates').materialized(), () => candidates)
      .updateTable('outbound_target')
      .set({ claimed_by: nodeId, claimed_until: now + this.lease })
      .where('id', 'in', (eb) => eb.selectFrom('candidates').select('candidates.id'))
      .$if(store.kind === 'postgres', (q) => q.where('claimed_until', '<', now).where('state', 'in', ACTIVE))
      .returning('id')
      .execute());
    return rows.map((r) => Number(r.id)).sort((a, b) => a - b);
  }

  private async load(ids: number[]) {
    return this.deps.store.db
      .selectFrom('outbound_target as t')
      .innerJoin('outbound_report as r', 'r.id', 't.outbound_report_id')
      .select([
        't.id', 't.uri', 't.scheme', 't.attempts', 't.first_attempt_at',
        'r.id as reportRowId', 'r.report_id', 'r.report_domain', 'r.gz', 'r.file_name', 'r.window_start', 'r.window_end',
      ])
      .where('t.id', 'in', ids)
      .where('t.claimed_by', '=', this.deps.nodeId)
      .orderBy('t.id')
      .execute();
  }

  private async attempt(row: Awaited<ReturnType<DeliveryQueue['load']>>[number]): Promise<TargetAttempt> {
    const { log } = this.deps;
    const started = this.deps.clock();
    let outcome: AttemptOutcome;
    try {
      outcome = row.scheme === 'mailto'
        ? await this.sendMail(row)
        : row.scheme === 'https'
          ? await postReport(row.uri, row.gz ?? new Uint8Array(), { ...this.deps.https, log })
          : { kind: 'permanent', error: `unsupported rua scheme ${row.scheme}` };
    } catch (e) {
      outcome = { kind: 'temporary', error: oneLine((e as Error).message || String(e)) };
    }
    const now = this.deps.clock();
    const attempts = Number(row.attempts) + 1;
    const first = row.first_attempt_at === null ? started : Number(row.first_attempt_at);
    let state: OutboundTargetState;
    let detail: string;
    let next: number | undefined;
    if (outcome.kind === 'sent') {
      state = 'sent';
      detail = outcome.detail;
    } else if (outcome.kind === 'permanent') {
      state = 'failed';
      detail = outcome.error;
    } else {
      next = nextAttemptAt({ firstAttemptAt: first, attempts, now, random: this.deps.random() }, this.retry);
      state = next === undefined ? 'failed' : 'retrying';
      detail = next === undefined ? `gave up after ${Math.round((now - first) / 3600)} h of retries: ${outcome.error}` : outcome.error;
    }
    deliveryMetrics.attempts.inc({ scheme: row.scheme, outcome: outcome.kind === 'temporary' && state === 'failed' ? 'gave-up' : outcome.kind });
    if (state === 'sent') deliveryMetrics.reportsSent.inc({ scheme: row.scheme, policy_domain: boundedLabel('tlsrpt_outbound_reports_sent_total', row.report_domain) });
    await writeTransaction(this.deps.store, async (trx) => {
      await trx.updateTable('outbound_target')
        .set({
          state,
          attempts,
          first_attempt_at: first,
          last_attempt_at: now,
          ...(state === 'sent' ? { sent_at: now, sent_detail: detail.slice(0, 500) } : { last_error: detail.slice(0, 1000) }),
          ...(next !== undefined ? { next_attempt_at: next } : {}),
          claimed_by: null,
          claimed_until: 0,
        })
        .where('id', '=', row.id)
        .where('claimed_by', '=', this.deps.nodeId)
        .execute();
      // The report is finished when no target is left to try: done when one accepted (RFC 8460
      // §5.3: not delivered until at least one endpoint accepted it), else failed.
      const open = await trx.selectFrom('outbound_target').select('id')
        .where('outbound_report_id', '=', row.reportRowId).where('state', 'in', ACTIVE).limit(1).execute();
      if (open.length === 0) {
        const sent = await trx.selectFrom('outbound_target').select('id')
          .where('outbound_report_id', '=', row.reportRowId).where('state', '=', 'sent').limit(1).execute();
        await trx.updateTable('outbound_report')
          .set({ state: sent.length ? 'done' : 'failed', ...(sent.length ? {} : { reason: 'no rua target accepted the report' }) })
          .where('id', '=', row.reportRowId).where('state', '=', 'pending').execute();
      }
    });
    const logged = { reportId: row.report_id, reportDomain: row.report_domain, uri: row.uri, attempts, state, detail, nextAttemptAt: next };
    if (state === 'sent') log.info(logged, 'report delivered');
    else if (state === 'failed') log.error(logged, 'report delivery failed for good');
    else log.warn(logged, 'report delivery failed, will retry');
    return {
      reportRowId: Number(row.reportRowId), reportId: row.report_id ?? '', reportDomain: row.report_domain, uri: row.uri,
      state, attempts, detail, ...(next !== undefined ? { nextAttemptAt: next } : {}),
    };
  }

  private async sendMail(row: { id: number; uri: string; report_id: string | null; report_domain: string; gz: Buffer | null; file_name: string | null; window_start: number; window_end: number }): Promise<AttemptOutcome> {
    const { mailer, log } = this.deps;
    if (!mailer) return { kind: 'temporary', error: 'no relay configured: set "relay" in the config to send mailto: reports' };
    const to = decodeMailto(row.uri);
    if (!to) return { kind: 'permanent', error: `not a usable mailto URI: ${oneLine(row.uri)}` };
    const v = checkedReportValues(this.deps.settings, {
      rcptDomain: row.report_domain, reportId: row.report_id ?? undefined,
      periodStartIso: isoSeconds(Number(row.window_start)), periodEndIso: isoSeconds(Number(row.window_end) - 1),
    }, log);
    for (const r of v.refused) deliveryMetrics.settingsRefused.inc({ field: r.field });
    const { dkimKeys } = this.deps;
    const key = dkimKeys === 'mta' ? undefined : findDkimKey(dkimKeys, v.dkimSignDomain);
    if (dkimKeys !== 'mta' && !key) {
      // RFC 8460 §3: receivers MUST ignore unsigned reports — sending one would only look delivered.
      return { kind: 'temporary', error: `no DKIM key configured for ${v.dkimSignDomain} (dkimSignDomain): add it to "dkim" in the config` };
    }
    const raw = await buildReportMessage({
      fromName: v.fromName, fromAddress: v.fromAddress, to, subject: v.subject,
      reportDomain: row.report_domain, submitter: v.submitter, reportId: row.report_id ?? '', orgName: v.orgName,
      startDatetime: isoSeconds(Number(row.window_start)), endDatetime: isoSeconds(Number(row.window_end) - 1),
      gz: row.gz ?? new Uint8Array(), fileName: row.file_name ?? 'report.json.gz',
      date: new Date(this.deps.clock() * 1000),
      // Stable per target: a receiver can recognise a resent copy of the same report mail.
      messageIdLocal: `tlsrpt.${(row.report_id ?? '').replace(/[^A-Za-z0-9.-]/g, '.')}.${row.id}`,
    });
    // delivery.dkim "mta": the local MTA signs what it relays.
    const signed = key ? await signReportMessage(raw, key, new Date(this.deps.clock() * 1000)) : raw;
    return mailer.send({ from: v.fromAddress, to }, signed);
  }
}

/** The address of a `mailto:` rua (RFC 6068: percent-decoded, no query); undefined when unusable. */
export function decodeMailto(uri: string): string | undefined {
  const m = /^mailto:([^?]*)/i.exec(uri);
  if (m?.[1] === undefined) return undefined;
  let addr: string;
  try {
    addr = decodeURIComponent(m[1]);
  } catch {
    return undefined;
  }
  // A TXT record is anyone's input: a %0D%0A in it must not reach RCPT TO or the To header.
  if (/[\u0000-\u0020\u007f<>(),;:"[\]\\]/.test(addr) || addr.includes(',')) return undefined;
  return addr;
}
