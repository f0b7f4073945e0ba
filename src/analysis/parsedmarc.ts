/**
 * @module analysis/parsedmarc — a stored report in parsedmarc's SMTP TLS shapes, so dashboards
 * built for parsedmarc (Splunk, OpenSearch, Grafana) read our exports unchanged: the JSON object
 * of `parse_smtp_tls_report_json` and the rows of `parsed_smtp_tls_reports_to_csv`. Pure.
 *
 * Where we differ from parsedmarc, on purpose:
 * - values come from our normalised report (RFC 8460 §4.4 read leniently), so a report
 *   parsedmarc rejects (no contact-info, unknown policy-type) is still exported;
 * - `mx_host_patterns` comes from the policy's `mx-host` (parsedmarc reads a non-RFC key
 *   `mx-host-pattern` and so almost never fills it);
 * - empty strings a sender wrote (`"receiving-ip": ""`) are left out, like absent fields;
 * - `additional_info_uri` takes the RFC's `additional-information` (parsedmarc reads only the
 *   older `additional-info-uri`; both are accepted here).
 * Kept as parsedmarc has it: key names and order, `|`-joined lists in CSV, and CSV failure rows
 * without policy_domain / successful_session_count (so a `sum(failed_session_count) by
 * policy_domain` over the CSV counts each policy's summary once, not again per detail).
 */
import type { FailureDetail, PolicyResult, TlsReport } from '../rfc8460/types.js';

export interface ParsedmarcFailureDetail {
  result_type: string;
  failed_session_count: number;
  sending_mta_ip?: string;
  receiving_ip?: string;
  receiving_mx_hostname?: string;
  receiving_mx_helo?: string;
  additional_info_uri?: string;
  failure_reason_code?: string;
}

export interface ParsedmarcPolicy {
  policy_domain: string;
  policy_type: string;
  policy_strings?: string[];
  mx_host_patterns?: string[];
  successful_session_count: number;
  failed_session_count: number;
  failure_details?: ParsedmarcFailureDetail[];
}

export interface ParsedmarcTlsReport {
  organization_name: string;
  begin_date: string;
  end_date: string;
  contact_info: string;
  report_id: string;
  policies: ParsedmarcPolicy[];
}

/** The header of parsedmarc's `smtp_tls.csv`, in its order. */
export const PARSEDMARC_CSV_FIELDS = [
  'organization_name', 'begin_date', 'end_date', 'report_id', 'result_type', 'successful_session_count', 'failed_session_count',
  'policy_domain', 'policy_type', 'policy_strings', 'mx_host_patterns', 'sending_mta_ip', 'receiving_ip', 'receiving_mx_hostname',
  'receiving_mx_helo', 'additional_info_uri', 'failure_reason_code',
] as const;

export type ParsedmarcCsvRow = Partial<Record<(typeof PARSEDMARC_CSV_FIELDS)[number], string | number>>;

function detail(d: FailureDetail): ParsedmarcFailureDetail {
  const o: ParsedmarcFailureDetail = { result_type: d.resultType, failed_session_count: d.failedSessionCount };
  if (d.sendingMtaIp) o.sending_mta_ip = d.sendingMtaIp;
  if (d.receivingIp) o.receiving_ip = d.receivingIp;
  if (d.receivingMxHostname) o.receiving_mx_hostname = d.receivingMxHostname;
  if (d.receivingMxHelo) o.receiving_mx_helo = d.receivingMxHelo;
  const uri = d.additionalInformation || (typeof d.extra?.['additional-info-uri'] === 'string' ? d.extra['additional-info-uri'] : '');
  if (uri) o.additional_info_uri = uri;
  if (d.failureReasonCode) o.failure_reason_code = d.failureReasonCode;
  return o;
}

function policy(p: PolicyResult): ParsedmarcPolicy {
  const o: ParsedmarcPolicy = { policy_domain: p.policy.policyDomain, policy_type: p.policy.policyType } as ParsedmarcPolicy;
  if (p.policy.policyString.length) o.policy_strings = [...p.policy.policyString];
  if (p.policy.mxHost.length) o.mx_host_patterns = [...p.policy.mxHost];
  o.successful_session_count = p.summary.totalSuccessfulSessionCount;
  o.failed_session_count = p.summary.totalFailureSessionCount;
  // parsedmarc writes failure_details only when the report had the key; we cannot tell an
  // absent key from an empty list after normalising, and both mean "no details".
  if (p.failureDetails.length) o.failure_details = p.failureDetails.map(detail);
  return o;
}

/**
 * @example toParsedmarc(report).policies[0].failed_session_count // 3
 */
export function toParsedmarc(report: TlsReport): ParsedmarcTlsReport {
  return {
    organization_name: report.organizationName,
    begin_date: report.dateRange.startDatetime,
    end_date: report.dateRange.endDatetime,
    contact_info: report.contactInfo ?? '',
    report_id: report.reportId,
    policies: report.policies.map(policy),
  };
}

/** parsedmarc's flat CSV rows of one report: per policy a summary row, then one row per failure detail. */
export function parsedmarcCsvRows(report: ParsedmarcTlsReport): ParsedmarcCsvRow[] {
  const rows: ParsedmarcCsvRow[] = [];
  const common = { organization_name: report.organization_name, begin_date: report.begin_date, end_date: report.end_date, report_id: report.report_id };
  for (const p of report.policies) {
    const record: ParsedmarcCsvRow = { ...common };
    if (p.policy_strings) record.policy_strings = p.policy_strings.join('|');
    if (p.mx_host_patterns) record.mx_host_patterns = p.mx_host_patterns.join('|');
    rows.push({
      ...record, policy_domain: p.policy_domain, policy_type: p.policy_type,
      successful_session_count: p.successful_session_count, failed_session_count: p.failed_session_count,
    });
    for (const d of p.failure_details ?? []) rows.push({ ...record, ...d });
  }
  return rows;
}
