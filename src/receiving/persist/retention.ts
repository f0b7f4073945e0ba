/**
 * @module receiving/persist/retention — how long received reports are kept (`retention.inboundDays`,
 * default 400) and the daily purge that enforces it. A report is purged that many days after
 * it was RECEIVED (not after the period it covers: an archive imported today stays for the
 * full term), with its policies, failure details and findings. The clock is injected.
 */
import type { Logger } from '../../common/log.js';
import type { Store } from '../../store/index.js';
import type { RetentionSection } from '../../settings/sections/index.js';
import { DAY } from '../../common/time.js';

/** The `retention` config section (schema: `settings/sections/retention.ts`). */
export type RetentionOptions = RetentionSection;

/**
 * Deletes reports received before `now - days`. Works in batches so a first
 * purge of a big backlog does not hold the database lock for long. Returns how many went.
 * @example await purgeInboundReports(store, { days: 400, now: Math.floor(Date.now() / 1000) })
 */
export async function purgeInboundReports(store: Store, opts: { days: number; now: number; batch?: number }): Promise<number> {
  const cutoff = opts.now - opts.days * DAY;
  const batch = opts.batch ?? 500;
  let purged = 0;
  for (;;) {
    const ids = (
      await store.db.selectFrom('inbound_report').select('id').where('received_at', '<', cutoff).orderBy('id').limit(batch).execute()
    ).map((r) => Number(r.id));
    if (!ids.length) return purged;
    // Children first: correct even where foreign-key cascades are not enforced.
    await store.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('inbound_finding').where('report_ref', 'in', ids).execute();
      await trx.deleteFrom('inbound_failure').where('report_ref', 'in', ids).execute();
      await trx.deleteFrom('inbound_policy').where('report_ref', 'in', ids).execute();
      await trx.deleteFrom('inbound_report').where('id', 'in', ids).execute();
    });
    purged += ids.length;
    if (ids.length < batch) return purged;
  }
}

export interface RetentionComponentDeps {
  store: Store;
  log: Logger;
  options: RetentionOptions;
  /** Epoch seconds. */
  now?: () => number;
  /** Timer functions (tests). */
  setInterval?: (fn: () => void, ms: number) => unknown;
  clearInterval?: (handle: unknown) => void;
}

/**
 * The daily purge as a service component: runs once at start, then every
 * `purgeIntervalSeconds`. A failing purge is logged and retried at the next tick.
 */
export function createRetentionComponent(deps: RetentionComponentDeps) {
  const now = deps.now ?? (() => Math.floor(Date.now() / 1000));
  const setTimer = deps.setInterval ?? ((fn, ms) => {
    const t = setInterval(fn, ms);
    t.unref();
    return t;
  });
  const clearTimer = deps.clearInterval ?? ((h) => clearInterval(h as NodeJS.Timeout));
  let timer: unknown;
  let running: Promise<number> | undefined;

  const runOnce = (): Promise<number> =>
    (running ??= purgeInboundReports(deps.store, { days: deps.options.inboundDays, now: now() })
      .then((n) => {
        if (n) deps.log.info({ purged: n, days: deps.options.inboundDays }, 'inbound retention purge');
        return n;
      })
      .catch((e) => {
        deps.log.error({ err: (e as Error).message }, 'inbound retention purge failed; retrying at the next run');
        return 0;
      })
      .finally(() => {
        running = undefined;
      }));

  return {
    name: 'inbound-retention',
    /** Runs a purge now (the component's tick; also for tests and `tlsrpt` tooling). */
    runOnce,
    async start() {
      void runOnce();
      timer = setTimer(() => void runOnce(), deps.options.purgeIntervalSeconds * 1000);
    },
    async stop() {
      if (timer !== undefined) clearTimer(timer);
      timer = undefined;
      await running;
    },
  };
}
