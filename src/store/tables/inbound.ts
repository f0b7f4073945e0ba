/**
 * @module store/tables/inbound — reports received from other organisations (RFC 8460 §4):
 * one `inbound_report` row per distinct report (raw bytes, normalised JSON, DKIM result, where
 * it came from), its policies and failure details as rows for queries by day, reporter, policy
 * domain, result type, MX and IP, and the parser's findings. Times are epoch seconds; `day` is
 * the UTC day number (epoch seconds / 86400) of the report's start-datetime.
 */
import type { Generated } from 'kysely';

export interface InboundReportTable {
  id: Generated<number>;
  /** De-duplication reporter: organisational domain of contact-info, else organization-name (lower-cased). */
  reporter: string;
  organization_name: string;
  contact_info: string | null;
  report_id: string;
  date_start: number;
  date_end: number;
  day: number;
  /** Sorted, comma-separated policy domains of the report (part of the re-generated-copy key). */
  policy_domains: string;
  /** sha256 of the normalised report without its report-id (catches re-generated copies). */
  content_hash: string;
  total_successful: number;
  total_failed: number;
  findings_count: number;
  channel: string;
  peer: string | null;
  source: string | null;
  received_at: number;
  envelope_json: string | null;
  message_json: string | null;
  dkim_result: string;
  dkim_domain: string | null;
  /** 0 / 1 (portable boolean). */
  dkim_aligned: number;
  dkim_json: string | null;
  /** 1: attributed to `reporter` by an aligned, passing DKIM signature (migration 0510). */
  verified: Generated<number>;
  /** JSON of the normalised report, non-RFC keys kept; '' when packed into `report_json_gz`. */
  report_json: string;
  /** The report JSON gzip'd, for large reports (store/packed.ts, migration 0525); else null. */
  report_json_gz: Uint8Array | null;
  /** The report payload as extracted (decompressed JSON bytes); gzip'd when `blob_encoding` is 'gzip'. */
  payload: Uint8Array;
  /** null (`payload` and `raw` as received) or 'gzip' (both packed, store/packed.ts). */
  blob_encoding: string | null;
  /** The date-range as the report gave it (null in rows older than migration 0525). */
  start_datetime: string | null;
  end_datetime: string | null;
  /** The input as received (whole e-mail, HTTP body, file; gzip'd per `blob_encoding`); null when it is the payload itself. */
  raw: Uint8Array | null;
}

export interface InboundPolicyTable {
  id: Generated<number>;
  report_ref: number;
  idx: number;
  policy_type: string;
  policy_domain: string;
  policy_string_json: string;
  mx_host_json: string;
  successful: number;
  failed: number;
  reporter: string;
  day: number;
}

export interface InboundFailureTable {
  id: Generated<number>;
  report_ref: number;
  policy_ref: number;
  result_type: string;
  sending_mta_ip: string | null;
  receiving_mx_hostname: string | null;
  receiving_mx_helo: string | null;
  receiving_ip: string | null;
  failed_session_count: number;
  additional_information: string | null;
  failure_reason_code: string | null;
  extra_json: string | null;
  policy_domain: string;
  reporter: string;
  day: number;
}

export interface InboundFindingTable {
  id: Generated<number>;
  report_ref: number;
  code: string;
  path: string | null;
  message: string;
}

export interface InboundTables {
  inbound_report: InboundReportTable;
  inbound_policy: InboundPolicyTable;
  inbound_failure: InboundFailureTable;
  inbound_finding: InboundFindingTable;
}
