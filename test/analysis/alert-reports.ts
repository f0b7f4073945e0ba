/** @module test/analysis/alert-reports — compact builders of stored reports for the alert and drift tests. */
import type { Store } from '../../src/store/index.js';
import type { TlsReport } from '../../src/rfc8460/types.js';
import { saveInboundReport } from '../../src/receiving/persist/inbound-store.js';

export const DAY = 86400;
export const dayIso = (day: number) => new Date(day * DAY * 1000).toISOString().slice(0, 10);

export interface Failure { mx: string; type: string; count: number }

let seq = 0;

/** Stores one report by `reporter` about `domain` for UTC day number `day`. */
export async function storeReport(store: Store, o: { domain: string; day: number; reporter?: string; ok: number; failed?: number; failures?: Failure[]; policyStrings?: string[]; policyType?: string; receivedAt?: number }): Promise<number> {
  const reporter = o.reporter ?? 'google.com';
  const d = dayIso(o.day);
  const report: TlsReport = {
    organizationName: reporter, contactInfo: `tlsrpt@${reporter}`, reportId: `${d}-${o.domain}-${reporter}-${++seq}`,
    dateRange: { startDatetime: `${d}T00:00:00Z`, endDatetime: `${d}T23:59:59Z` },
    policies: [{
      policy: { policyType: o.policyType ?? 'sts', policyString: o.policyStrings ?? ['version: STSv1', 'mode: enforce', `mx: *.${o.domain}`, 'max_age: 604800'], policyDomain: o.domain, mxHost: [] },
      summary: { totalSuccessfulSessionCount: o.ok, totalFailureSessionCount: o.failed ?? (o.failures ?? []).reduce((a, f) => a + f.count, 0) },
      failureDetails: (o.failures ?? []).map((f) => ({ resultType: f.type, receivingMxHostname: f.mx, failedSessionCount: f.count })),
    }],
  };
  const raw = Buffer.from(JSON.stringify(report));
  const r = await saveInboundReport(store, { raw, report, findings: [], channel: 'file', receivedAt: o.receivedAt ?? Math.floor(Date.now() / 1000) });
  return r.id;
}
