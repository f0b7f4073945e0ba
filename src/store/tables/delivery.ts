/**
 * @module store/tables/delivery — table types of report delivery: one `outbound_report` per
 * closed window (the built report, or why there is none) and one `outbound_target` per
 * (report, rua URI) with its own delivery state, attempts and claim.
 */
import type { ColumnType, Generated } from 'kysely';

/**
 * building: claimed by a node that discovers the record and builds the JSON;
 * pending: targets outstanding; done: every target ended and at least one accepted;
 * failed: every target ended and none accepted; dropped: no usable TLSRPT record (or no data);
 * skipped: sendFrequency was `never` when the window closed.
 */
export type OutboundReportState = 'building' | 'pending' | 'done' | 'failed' | 'dropped' | 'skipped';

/** pending: not tried yet; retrying: a temporary failure, next_attempt_at set; sent; failed. */
export type OutboundTargetState = 'pending' | 'retrying' | 'sent' | 'failed';

export interface OutboundReportTable {
  id: Generated<number>;
  /** outbound_window.id; unique: one report per window, whichever node builds it. */
  window_id: number;
  /** The report domain (TLS-Report-Domain, file name): outbound_window.report_domain. */
  report_domain: string;
  window_start: number;
  window_end: number;
  /** The RFC `report-id`; null until built. */
  report_id: string | null;
  /** Size of the serialized RFC JSON in bytes (what maxReportSize limits). */
  json_bytes: number | null;
  /** The gzip-compressed RFC JSON, exactly the bytes every target receives (RFC 8460 §5.2). */
  gz: ColumnType<Buffer | null, Buffer | Uint8Array | null, Buffer | Uint8Array | null>;
  file_name: string | null;
  state: OutboundReportState;
  /** Why dropped/skipped/failed, or the last build error. */
  reason: string | null;
  /** 'mta' (record from the events) or 'dns'. */
  record_source: string | null;
  tlsrpt_record: string | null;
  /** Failure-detail rows dropped to fit maxReportSize. */
  trimmed_details: Generated<number>;
  /** When the report may first be sent (window end + random spread). */
  due_at: number;
  created_at: number;
  built_at: number | null;
  claimed_by: string | null;
  claimed_until: Generated<number>;
}

export interface OutboundTargetTable {
  id: Generated<number>;
  /** outbound_report.id */
  outbound_report_id: number;
  /** The rua URI as published (mailto:… or https:…). */
  uri: string;
  scheme: string;
  state: OutboundTargetState;
  attempts: Generated<number>;
  first_attempt_at: number | null;
  last_attempt_at: number | null;
  next_attempt_at: number;
  last_error: string | null;
  /** What the receiver said when it accepted (relay reply, HTTP status). */
  sent_detail: string | null;
  sent_at: number | null;
  claimed_by: string | null;
  claimed_until: Generated<number>;
}

export interface DeliveryTables {
  outbound_report: OutboundReportTable;
  outbound_target: OutboundTargetTable;
}
