/**
 * @module analysis/inbound-csv — the CSV forms of the inbound views, one definition for the CLI
 * (`--csv`) and the HTTP API (`?format=csv`): the report list, one report as one line per failure
 * detail (every RFC 8460 §4.4 field), and each summary breakdown.
 */
import { toCsv } from './csv.js';
import type { InboundReportDetail, InboundReportList } from './inbound-reports.js';
import type { InboundSummary } from './inbound-summary.js';

const LIST_COLUMNS = ['id', 'day', 'startDatetime', 'endDatetime', 'reporter', 'organizationName', 'reportId', 'policyDomains', 'successful', 'failed',
  'findingsCount', 'channel', 'receivedAt', 'dkimResult', 'dkimDomain', 'dkimAligned', 'verified'];

export function listCsv(list: InboundReportList): string {
  const rows: Record<string, unknown>[] = list.reports.map((r) => ({
    ...r, policyDomains: r.policyDomains.join(' '), dkimResult: r.dkim.result, dkimDomain: r.dkim.domain, dkimAligned: r.dkim.aligned,
  }));
  return toCsv(LIST_COLUMNS, rows);
}

const DETAIL_COLUMNS = ['id', 'reportId', 'reporter', 'day', 'policyDomain', 'policyType', 'policyStrings', 'mxHostPatterns', 'successful', 'failed',
  'resultType', 'sendingMtaIp', 'receivingMxHostname', 'receivingMxHelo', 'receivingIp', 'failedSessionCount', 'failureReasonCode', 'additionalInformation'];

/** One line per failure detail; a policy without failures gets one line of its own. Lists are `|`-joined as in parsedmarc. */
export function detailCsv(detail: InboundReportDetail): string {
  const lines: Record<string, string | number | null>[] = [];
  for (const p of detail.report.policies) {
    const base = {
      id: detail.id, reportId: detail.reportId, reporter: detail.reporter, day: detail.day,
      policyDomain: p.policy.policyDomain, policyType: p.policy.policyType,
      policyStrings: p.policy.policyString.join('|'), mxHostPatterns: p.policy.mxHost.join('|'),
      successful: p.summary.totalSuccessfulSessionCount, failed: p.summary.totalFailureSessionCount,
    };
    if (!p.failureDetails.length) lines.push(base);
    for (const d of p.failureDetails) {
      lines.push({
        ...base,
        resultType: d.resultType,
        sendingMtaIp: d.sendingMtaIp ?? null,
        receivingMxHostname: d.receivingMxHostname ?? null,
        receivingMxHelo: d.receivingMxHelo ?? null,
        receivingIp: d.receivingIp ?? null,
        failedSessionCount: d.failedSessionCount,
        failureReasonCode: d.failureReasonCode ?? null,
        additionalInformation: d.additionalInformation ?? null,
      });
    }
  }
  return toCsv(DETAIL_COLUMNS, lines);
}

export const SUMMARY_BREAKDOWNS = {
  rows: ['policyDomain', 'day', 'reporter', 'organizationName', 'policyType', 'successful', 'failed', 'reports', 'verifiedReports'],
  totals: ['policyDomain', 'day', 'successful', 'failed', 'reports'],
  'result-type': ['policyDomain', 'day', 'resultType', 'failed'],
  mx: ['policyDomain', 'day', 'receivingMxHostname', 'failed'],
  ip: ['policyDomain', 'day', 'receivingIp', 'failed'],
  'mx-result-type': ['policyDomain', 'receivingMxHostname', 'resultType', 'failed', 'reports'],
} as const;

export type SummaryBreakdown = keyof typeof SUMMARY_BREAKDOWNS;

export function isSummaryBreakdown(name: string): name is SummaryBreakdown {
  return Object.hasOwn(SUMMARY_BREAKDOWNS, name);
}

export function summaryCsv(summary: InboundSummary, breakdown: SummaryBreakdown): string {
  const data = {
    rows: summary.rows, totals: summary.totals, 'result-type': summary.byResultType, mx: summary.byReceivingMx, ip: summary.byReceivingIp,
    'mx-result-type': summary.byMxResultType,
  }[breakdown] as unknown as Record<string, unknown>[];
  return toCsv([...SUMMARY_BREAKDOWNS[breakdown]], data);
}
