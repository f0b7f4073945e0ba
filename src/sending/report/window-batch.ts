/**
 * @module sending/report/window-batch — reads the counters of many windows at once (the
 * collector's tables), so building a day's reports for 100,000 domains costs one query per 500
 * windows instead of three per window. The JSON columns stay text: the report builder parses
 * them where it builds (a worker thread), not on the thread that runs the store.
 */
import { sql } from '../../store/kysely.js';
import type { Store } from '../../store/index.js';
import type { PolicySource } from './report-files.js';

/** One stored policy of a window: what discovery reads (record, counts) and what the builder parses. */
export interface PolicyRow extends PolicySource {
  windowId: number;
  tlsrptRecord: string | null;
}

/**
 * The policies of the windows with these ids (in no particular order), each with its failure
 * rows aggregated by the database into one `[count,detail_json],…` text: a window without a
 * policy row has no entry.
 */
export async function readWindowPolicies(store: Store, ids: number[]): Promise<Map<number, PolicyRow[]>> {
  const out = new Map<number, PolicyRow[]>();
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids.slice(i, i + 500);
    if (chunk.length === 0) continue;
    // Selected under the names of PolicyRow: the rows are used as they come, no copy per row
    // (the driver gives numbers for these integer columns on both stores).
    const rows: PolicyRow[] = store.kind === 'postgres' ? await readOnPostgres(store, chunk) : await store.db.selectFrom('outbound_policy as p')
      .select(['p.window_id as windowId', 'p.tlsrpt_record as tlsrptRecord', 'p.policy_json as policyJson', 'p.successful', 'p.failed'])
      .select(sql<string | null>`(select group_concat('[' || cast(f.count as text) || ',' || f.detail_json || ']', ',') from outbound_failure f where f.window_id = p.window_id and f.fingerprint = p.fingerprint)`.as('details'))
      .where('p.window_id', 'in', chunk)
      .execute();
    for (const p of rows) {
      let list = out.get(p.windowId);
      if (!list) out.set(p.windowId, (list = []));
      list.push(p);
    }
  }
  return out;
}

/**
 * PostgreSQL: one join of both tables' primary-key ranges for the windows (a merge join in key
 * order, also with no statistics on rows written moments ago), not a subquery per policy: a
 * third of the time. The ids are one array parameter, not 500 placeholders.
 */
async function readOnPostgres(store: Store, ids: number[]): Promise<PolicyRow[]> {
  const r = await sql<PolicyRow>`select p.window_id as "windowId", p.tlsrpt_record as "tlsrptRecord", p.policy_json as "policyJson", p.successful, p.failed,
      string_agg('[' || f.count::text || ',' || f.detail_json || ']', ',') as details
    from outbound_policy p left join outbound_failure f
      on f.window_id = p.window_id and f.fingerprint = p.fingerprint and f.window_id = any(${ids}::bigint[])
    where p.window_id = any(${ids}::bigint[])
    group by p.window_id, p.fingerprint`.execute(store.db);
  return r.rows;
}
