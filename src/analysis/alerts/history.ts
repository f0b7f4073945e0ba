/** @module analysis/alerts/history — the stored alerts, newest first, filtered by domain, rule and time (for GET /api/v1/alerts). */
import type { Store } from '../../store/index.js';
import { toStoredAlert, type StoredAlert } from './engine.js';

export interface AlertFilter { domain?: string; rule?: string; severity?: string; since?: number; limit?: number }

export async function listAlerts(store: Store, f: AlertFilter = {}): Promise<{ alerts: StoredAlert[] }> {
  let q = store.db.selectFrom('alert').selectAll();
  if (f.domain) q = q.where('policy_domain', '=', f.domain);
  if (f.rule) q = q.where('rule', '=', f.rule);
  if (f.severity) q = q.where('severity', '=', f.severity);
  if (f.since !== undefined) q = q.where('created_at', '>=', f.since);
  const rows = await q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(Math.min(Math.max(f.limit ?? 100, 1), 1000)).execute();
  return { alerts: rows.map(toStoredAlert) };
}
