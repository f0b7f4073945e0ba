/**
 * @module store/tables/outbound — the collector's aggregation tables: one row per reporting
 * window of a report domain, counters per policy (fingerprint) and per identical failure detail.
 * The collector writes them; the delivery area closes windows and reads the counters.
 */
import type { ColumnType, Generated } from 'kysely';

/** The sendFrequency in force at the window's first event. */
export type WindowFrequency = 'hourly' | 'daily' | 'weekly' | 'never';

/**
 * `outbound_window`: at most one OPEN row per (report_domain, window_start) (partial unique
 * index). Times are epoch seconds; `window_end` is exclusive (the next window's start).
 */
export interface OutboundWindowTable {
  id: Generated<number>;
  /** The report domain (RFC 8460 §4.4: whose TLSRPT record names the targets); each policy keeps its own policy-domain. */
  report_domain: string;
  window_start: number;
  window_end: number;
  frequency: WindowFrequency;
  state: 'open' | 'closed';
  created_at: number;
  closed_at: ColumnType<number | null, number | null | undefined, number | null>;
}

/** `outbound_policy`: counters of one policy (+ TLSRPT record) in one window. PK (window_id, fingerprint). */
export interface OutboundPolicyTable {
  window_id: number;
  /** sha256 of the canonical policy and record (src/sending/collect/fingerprint.ts). */
  fingerprint: string;
  /** The raw `_smtp._tls` TXT record the MTA looked up, when it sent one. */
  tlsrpt_record: string | null;
  /** JSON of the rfc8460 `Policy` (camelCase) as first seen. */
  policy_json: string;
  successful: number;
  failed: number;
}

/** `outbound_failure`: count of one identical failure detail. PK (window_id, fingerprint, detail_key). */
export interface OutboundFailureTable {
  window_id: number;
  fingerprint: string;
  /** sha256 of the detail's fields (src/sending/collect/fingerprint.ts `failureDetailKey`). */
  detail_key: string;
  /** JSON of the rfc8460 `FailureDetail` without `failedSessionCount` (camelCase). */
  detail_json: string;
  count: number;
}

/**
 * `outbound_journal`: acknowledged event batches not yet in the counters. A row is written (and
 * committed) before `POST /api/v1/events` answers 200, and deleted in the flush transaction that
 * adds its events; rows of a dead instance are replayed by the next one (src/sending/collect/journal.ts).
 */
export interface OutboundJournalTable {
  id: Generated<number>;
  /** The collector instance that holds the batch in memory. */
  instance_id: string;
  /** Arrival time, epoch MILLISECONDS (a replay counts the events into the windows of that time). */
  created_at_ms: number;
  /** 'events-json' (a validated `{"events": [...]}` body) or 'outcomes-json' (TlsSessionOutcome[] as JSON). */
  format: string;
  body: string;
}

/** `outbound_collector`: one row per running collector instance — the cluster's node registry and each node's lease (src/cluster/). */
export interface OutboundCollectorTable {
  instance_id: string;
  hostname: string;
  pid: number;
  started_at: number;
  heartbeat_at: number;
  /** The operator's name for the node (`cluster.nodeName`, else SystemSettings.hostname of its config, else the host name). */
  node_name: ColumnType<string | null, string | null | undefined, string | null>;
  /** The name it claims reports and targets under (`claimed_by` of outbound_report / outbound_target). */
  claim_id: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface OutboundTables {
  outbound_window: OutboundWindowTable;
  outbound_policy: OutboundPolicyTable;
  outbound_failure: OutboundFailureTable;
  outbound_journal: OutboundJournalTable;
  outbound_collector: OutboundCollectorTable;
}
