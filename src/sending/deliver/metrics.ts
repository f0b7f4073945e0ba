/**
 * @module sending/deliver/metrics — Prometheus counters of report building and delivery, on
 * the process registry (src/common/metrics.ts, served at `GET /metrics`).
 */
import { counter } from '../../common/metrics.js';

export const deliveryMetrics = {
  /** Windows closed without a report: label reason = no-record | no-data | never. */
  windowsDropped: counter('tlsrpt_outbound_windows_dropped_total', 'closed windows whose data was dropped without a report', ['reason']),
  reportsBuilt: counter('tlsrpt_outbound_reports_built_total', 'reports built'),
  detailsTrimmed: counter('tlsrpt_outbound_report_details_trimmed_total', 'failure-detail rows dropped to fit maxReportSize'),
  reportsTrimmed: counter('tlsrpt_outbound_reports_trimmed_total', 'reports trimmed to fit maxReportSize'),
  /** One per attempt: scheme = mailto | https, outcome = sent | temporary | permanent | gave-up. */
  attempts: counter('tlsrpt_outbound_delivery_attempts_total', 'delivery attempts per rua target', ['scheme', 'outcome']),
  settingsRefused: counter('tlsrpt_outbound_settings_refused_total', 'report setting values refused at the header boundary', ['field']),
  /** Reports a rua target accepted, by policy domain (first 100, then "other") and scheme (issue 12). */
  reportsSent: counter('tlsrpt_outbound_reports_sent_total', 'reports accepted by a rua target, by policy domain and scheme', ['policy_domain', 'scheme']),
  ssrfRefused: counter('tlsrpt_outbound_https_refused_total', 'https rua targets refused by SSRF protection'),
};
