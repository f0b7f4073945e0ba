/**
 * @module store/tables/alerts — alert history (every alert raised, with how it was notified)
 * and the evaluator's state (the last inbound report evaluated, the last daily run).
 */
import type { Generated } from 'kysely';

export interface AlertTable {
  id: Generated<number>;
  /** Epoch seconds. */
  created_at: number;
  rule: string;
  severity: string;
  policy_domain: string;
  /** Identity for cooldown: rule + domain + what it is about (MX, result type, reporter…). */
  alert_key: string;
  title: string;
  detail_json: string;
  /** The inbound report that raised it, for report-time rules. */
  report_ref: number | null;
  /** Comma-separated channels notified at once (email, webhook), '' when only in the digest. */
  notified: string;
  /** Epoch seconds the daily digest carried it, or null. */
  digested_at: number | null;
}

export interface AlertStateTable {
  name: string;
  value: number;
}

export interface AlertTables {
  alert: AlertTable;
  alert_state: AlertStateTable;
}
