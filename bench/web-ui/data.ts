/**
 * @module bench/web-ui/data — a year of received reports for the web UI benchmark, written fast:
 * one report per (policy domain, reporter, day) with its policy row and, for about a third, one
 * or two failure-detail rows, inserted with multi-row statements inside large transactions
 * (the store's `bulkInsert`), ids assigned here so the child rows can point at their report.
 * The rows carry what `saveInboundReport` would store for such a report (same columns, same
 * normalised JSON); the totals come back for checking what the queries answer.
 */
import { createHash } from 'node:crypto';
import type { Store } from '../../src/store/index.js';
import { bulkInsert, type BulkColumn } from '../../src/store/bulk-insert.js';
import type { TlsReport } from '../../src/rfc8460/types.js';

export const REPORTERS = ['google.com', 'microsoft.com', 'yahoo.com', 'mail.ru', 'comcast.net', 'gmx.net'];
export const RESULT_TYPES = ['certificate-expired', 'starttls-not-supported', 'validation-failure', 'sts-policy-fetch-error'];
const DAY = 86400;

/** Deterministic pseudo-random numbers (mulberry32): the same data on every run. */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const REPORT_COLS: BulkColumn[] = [
  ['id', 'int'], ['reporter', 'text'], ['organization_name', 'text'], ['contact_info', 'text'], ['report_id', 'text'], ['date_start', 'int'],
  ['date_end', 'int'], ['day', 'int'], ['policy_domains', 'text'], ['content_hash', 'text'], ['total_successful', 'int'], ['total_failed', 'int'],
  ['findings_count', 'int'], ['channel', 'text'], ['peer', 'text'], ['received_at', 'int'], ['dkim_result', 'text'], ['dkim_aligned', 'int'],
  ['report_json', 'text'], ['payload', 'text'],
];
const POLICY_COLS: BulkColumn[] = [
  ['id', 'int'], ['report_ref', 'int'], ['idx', 'int'], ['policy_type', 'text'], ['policy_domain', 'text'], ['policy_string_json', 'text'],
  ['mx_host_json', 'text'], ['successful', 'int'], ['failed', 'int'], ['reporter', 'text'], ['day', 'int'],
];
const FAILURE_COLS: BulkColumn[] = [
  ['report_ref', 'int'], ['policy_ref', 'int'], ['result_type', 'text'], ['sending_mta_ip', 'text'], ['receiving_mx_hostname', 'text'],
  ['receiving_ip', 'text'], ['failed_session_count', 'int'], ['policy_domain', 'text'], ['reporter', 'text'], ['day', 'int'],
];

export interface Generated {
  reports: number;
  failures: number;
  successful: number;
  failed: number;
  /** Sessions (successful + failed) per policy domain over the last 30 days (today included). */
  last30: Map<string, number>;
}

/** Fills `store` with `domains` × REPORTERS × `days` reports ending on UTC day `today`. */
export async function generateYear(store: Store, opts: { domains: number; days: number; today: number }): Promise<Generated> {
  const random = rng(8460);
  const out: Generated = { reports: 0, failures: 0, successful: 0, failed: 0, last30: new Map() };
  const domains = Array.from({ length: opts.domains }, (_, i) => `d${String(i).padStart(2, '0')}.example`);
  let reports: unknown[][] = [], policies: unknown[][] = [], failures: unknown[][] = [];
  const flush = async (trx: Store['db']) => {
    // SQLite binds one parameter per value: keep rows × columns under its 32,766 limit.
    for (const [table, cols, rows, per] of [['inbound_report', REPORT_COLS, reports, 1500], ['inbound_policy', POLICY_COLS, policies, 2900], ['inbound_failure', FAILURE_COLS, failures, 3200]] as const) {
      for (let i = 0; i < rows.length; i += per) await trx.executeQuery(bulkInsert(store.kind, table, cols, rows.slice(i, i + per), ''));
    }
    reports = [];
    policies = [];
    failures = [];
  };
  let id = 0;
  for (let day = opts.today - opts.days + 1; day <= opts.today; day++) {
    await store.db.transaction().execute(async (trx) => {
      for (const [di, domain] of domains.entries()) {
        for (const reporter of REPORTERS) {
          id++;
          const successful = 200 + Math.floor(random() * 5000);
          // Every fifth domain has trouble: more failures, and worse in its last week.
          const troubled = di % 5 === 0;
          const hasFailures = random() < (troubled ? 0.8 : 0.2);
          const details = hasFailures ? [{ type: RESULT_TYPES[Math.floor(random() * RESULT_TYPES.length)], n: 1 + Math.floor(random() * (troubled && day > opts.today - 7 ? 400 : 40)), mx: `mx${1 + Math.floor(random() * 3)}.${domain}` }] : [];
          if (hasFailures && random() < 0.3) details.push({ type: RESULT_TYPES[0], n: 1 + Math.floor(random() * 20), mx: `mx1.${domain}` });
          const failed = details.reduce((a, d) => a + d.n, 0);
          const start = new Date(day * DAY * 1000).toISOString().replace('.000Z', 'Z');
          const end = new Date((day * DAY + DAY - 1) * 1000).toISOString().replace('.000Z', 'Z');
          const reportId = `${start}_${domain}_${reporter}`;
          const report: TlsReport = {
            organizationName: `${reporter} Inc.`,
            dateRange: { startDatetime: start, endDatetime: end },
            contactInfo: `smtp-tls-reporting@${reporter}`,
            reportId,
            policies: [{
              policy: { policyType: 'sts', policyString: ['version: STSv1', 'mode: enforce', `mx: *.${domain}`, 'max_age: 604800'], policyDomain: domain, mxHost: [`*.${domain}`] },
              summary: { totalSuccessfulSessionCount: successful, totalFailureSessionCount: failed },
              failureDetails: details.map((d) => ({ resultType: d.type, receivingMxHostname: d.mx, receivingIp: '198.51.100.25', sendingMtaIp: '203.0.113.9', failedSessionCount: d.n })),
            }],
          };
          const json = JSON.stringify(report);
          reports.push([id, reporter, `${reporter} Inc.`, `smtp-tls-reporting@${reporter}`, reportId, day * DAY, day * DAY + DAY - 1, day, domain,
            createHash('sha256').update(reportId).digest('hex'), successful, failed, 0, 'smtp', '192.0.2.7', day * DAY + DAY + 3600, 'pass', 1, json, Buffer.from(json)]);
          policies.push([id, id, 0, 'sts', domain, JSON.stringify(report.policies[0].policy.policyString), JSON.stringify([`*.${domain}`]), successful, failed, reporter, day]);
          for (const d of details) failures.push([id, id, d.type, '203.0.113.9', d.mx, '198.51.100.25', d.n, domain, reporter, day]);
          out.reports++;
          out.failures += details.length;
          out.successful += successful;
          out.failed += failed;
          if (day > opts.today - 30) out.last30.set(domain, (out.last30.get(domain) ?? 0) + successful + failed);
        }
      }
      await flush(trx);
    });
  }
  return out;
}
