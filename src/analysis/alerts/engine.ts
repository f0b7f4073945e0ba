/**
 * @module analysis/alerts/engine — raises, stores and notifies alerts. Newly stored reports are
 * picked up by id (a watermark in `alert_state`), so every channel and every `tlsrpt import`
 * on the same store is evaluated, in pages; a daily run adds the daily rules and sends the
 * digest. The same key is notified at most once per cooldown. Urgent alerts go out by e-mail
 * at once; every alert goes to the webhook at once; the rest wait for the digest.
 */
import type { Store } from '../../store/index.js';
import type { Logger } from '../../common/log.js';
import { rulesFor, type AlertsConfig } from '../../settings/alerts.js';
import { dailyCandidates, reportTimeCandidates, type AlertCandidate } from './rules.js';
import { alertText, type Notifier } from './notify.js';

export interface StoredAlert {
  id: number;
  createdAt: string;
  rule: string;
  severity: string;
  policyDomain: string;
  key: string;
  title: string;
  detail: Record<string, unknown>;
  reportRef: number | null;
  notified: string[];
  digestedAt: string | null;
}

export interface AlertEngineDeps {
  store: Store;
  config: AlertsConfig;
  notifier: Notifier;
  log?: Logger;
  /** Milliseconds since the epoch. */
  now?: () => number;
  /** Reports per evaluation page (default 500). */
  pageSize?: number;
}

const WATERMARK = 'last_report_id';
const LAST_DAILY = 'last_daily_day';
/** On the first run only reports received in the last two days are evaluated: history must not page anyone. */
const FIRST_RUN_LOOKBACK = 2 * 86400;

const iso = (s: number) => new Date(s * 1000).toISOString().replace('.000Z', 'Z');

export function toStoredAlert(r: { id: number; created_at: number; rule: string; severity: string; policy_domain: string; alert_key: string; title: string; detail_json: string; report_ref: number | null; notified: string; digested_at: number | null }): StoredAlert {
  return {
    id: Number(r.id), createdAt: iso(Number(r.created_at)), rule: r.rule, severity: r.severity, policyDomain: r.policy_domain, key: r.alert_key,
    title: r.title, detail: JSON.parse(r.detail_json), reportRef: r.report_ref === null ? null : Number(r.report_ref),
    notified: r.notified ? r.notified.split(',') : [], digestedAt: r.digested_at === null ? null : iso(Number(r.digested_at)),
  };
}

export function createAlertEngine(deps: AlertEngineDeps) {
  const { store, config, notifier } = deps;
  const now = () => Math.floor((deps.now ?? Date.now)() / 1000);
  const pageSize = deps.pageSize ?? 500;

  async function state(name: string): Promise<number | undefined> {
    const r = await store.db.selectFrom('alert_state').select('value').where('name', '=', name).executeTakeFirst();
    return r ? Number(r.value) : undefined;
  }
  async function setState(name: string, value: number): Promise<void> {
    await store.db.insertInto('alert_state').values({ name, value }).onConflict((oc) => oc.column('name').doUpdateSet({ value })).execute();
  }

  /** Stores the candidates that are enabled and not in cooldown; notifies; returns what was raised. */
  async function raise(candidates: AlertCandidate[]): Promise<StoredAlert[]> {
    const t = now();
    const raised: StoredAlert[] = [];
    for (const c of candidates) {
      const rules = rulesFor(config, c.policyDomain);
      if (!rules.enabled || (c.rule === 'new-failure' && !rules.newFailure) || (c.rule === 'certificate' && !rules.certificate)) continue;
      const recent = await store.db.selectFrom('alert').select('id').where('alert_key', '=', c.key).where('created_at', '>', t - config.cooldownHours * 3600).executeTakeFirst();
      if (recent) continue;
      const row = await store.db.insertInto('alert').values({
        created_at: t, rule: c.rule, severity: c.severity, policy_domain: c.policyDomain, alert_key: c.key, title: c.title,
        detail_json: JSON.stringify(c.detail), report_ref: c.reportRef ?? null, notified: '', digested_at: null,
      }).returning('id').executeTakeFirstOrThrow();
      raised.push(toStoredAlert({ id: Number(row.id), created_at: t, rule: c.rule, severity: c.severity, policy_domain: c.policyDomain, alert_key: c.key, title: c.title, detail_json: JSON.stringify(c.detail), report_ref: c.reportRef ?? null, notified: '', digested_at: null }));
    }
    if (raised.length) await notify(raised);
    return raised;
  }

  async function notify(alerts: StoredAlert[]): Promise<void> {
    const sent = new Map<number, string[]>();
    const mark = (list: StoredAlert[], channel: string) => { for (const a of list) sent.set(a.id, [...(sent.get(a.id) ?? []), channel]); };
    if (notifier.webhook) {
      const err = await notifier.webhook(alerts);
      if (err) deps.log?.warn({ err }, 'alert webhook failed'); else mark(alerts, 'webhook');
    }
    const urgent = alerts.filter((a) => a.severity === 'urgent');
    if (notifier.email && urgent.length) {
      const subject = urgent.length === 1 ? `[tlsrpt] URGENT ${urgent[0]!.title}` : `[tlsrpt] ${urgent.length} urgent TLS alerts`;
      const err = await notifier.email(subject, alertText(urgent));
      if (err) deps.log?.warn({ err }, 'alert e-mail failed'); else mark(urgent, 'email');
    }
    for (const [id, channels] of sent) {
      await store.db.updateTable('alert').set({ notified: channels.join(',') }).where('id', '=', id).execute();
      const a = alerts.find((x) => x.id === id)!;
      a.notified = channels;
    }
  }

  const rates = (domain: string) => rulesFor(config, domain);

  return {
    /** Evaluates every report stored since the last call (in pages); returns the alerts raised. */
    async evaluateStored(): Promise<StoredAlert[]> {
      let after = await state(WATERMARK);
      if (after === undefined) {
        const old = await store.db.selectFrom('inbound_report').select((eb) => eb.fn.max<number>('id').as('id')).where('received_at', '<', now() - FIRST_RUN_LOOKBACK).executeTakeFirst();
        after = Number(old?.id ?? 0);
      }
      const raised: StoredAlert[] = [];
      for (;;) {
        const page = await store.db.selectFrom('inbound_report').select('id').where('id', '>', after).orderBy('id').limit(pageSize).execute();
        if (!page.length) break;
        const ids = page.map((r) => Number(r.id));
        raised.push(...await raise(await reportTimeCandidates(store, ids, rates)));
        after = ids[ids.length - 1]!;
        await setState(WATERMARK, after);
        if (page.length < pageSize) break;
      }
      return raised;
    },

    /** The daily rules and the digest of the alerts not yet carried by one. */
    async runDaily(): Promise<{ raised: StoredAlert[]; digested: number }> {
      const today = Math.floor(now() / 86400);
      const raised = await raise(await dailyCandidates(store, today, (d) => {
        const r = rulesFor(config, d);
        return { silentDays: r.enabled ? r.silentDays : 0, readyDays: r.enabled ? r.readyToEnforceDays : 0 };
      }));
      const pending = (await store.db.selectFrom('alert').selectAll().where('digested_at', 'is', null).orderBy('id').execute()).map(toStoredAlert);
      if (pending.length && notifier.email) {
        const err = await notifier.email(`[tlsrpt] daily digest: ${pending.length} alert(s)`, alertText(pending));
        if (err) {
          deps.log?.warn({ err }, 'alert digest failed');
          return { raised, digested: 0 };
        }
      }
      if (pending.length) await store.db.updateTable('alert').set({ digested_at: now() }).where('id', 'in', pending.map((a) => a.id)).execute();
      await setState(LAST_DAILY, today);
      return { raised, digested: pending.length };
    },

    /** Whether today's daily run is due (past dailyHourUtc and not yet run today). */
    async dailyDue(): Promise<boolean> {
      const t = now();
      const today = Math.floor(t / 86400);
      return (t % 86400) >= config.dailyHourUtc * 3600 && (await state(LAST_DAILY) ?? -1) < today;
    },
  };
}

export type AlertEngine = ReturnType<typeof createAlertEngine>;
