/**
 * @module store/tables/alerts — alert history (every alert raised, with how it was notified)
 * and the evaluator's state (the last inbound report evaluated, the last daily run); the
 * policies domains were seen publishing (policy drift).
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

/** A policy a domain was seen publishing (by `tlsrpt inbound drift` / `tlsrpt check`). */
export interface PublishedPolicyTable {
  policy_domain: string;
  /** 'sts' or 'tlsa' (RFC 8460 §4.4 policy-type). */
  policy_type: string;
  /** sha256 of the normalised policy strings. */
  fingerprint: string;
  policy_string_json: string;
  sts_id: string | null;
  first_seen: number;
  last_seen: number;
}

export interface AlertTables {
  alert: AlertTable;
  alert_state: AlertStateTable;
  published_policy: PublishedPolicyTable;
}
