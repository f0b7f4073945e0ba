/**
 * @module bench/report/seed — one daily window per policy domain `d0.example` … written straight
 * into the collector's tables (two policies, three failure details each, the TLSRPT record
 * supplied by the MTA), for the report and footprint benchmarks.
 */
import type { Store } from '../../src/store/index.js';

export const DAY = 86400;
/** The seeded windows' start: 2026-11-27 00:00 UTC. */
export const START = Date.UTC(2026, 10, 27) / 1000;

/** Writes the collector's tables directly (the collection path has its own benchmarks). */
export async function seed(store: Store, n: number): Promise<void> {
  const CH = 500;
  for (let i = 0; i < n; i += CH) {
    const ids: number[] = [];
    await store.db.transaction().execute(async (trx) => {
      const rows = await trx.insertInto('outbound_window')
        .values(Array.from({ length: Math.min(CH, n - i) }, (_, k) => ({
          report_domain: `d${i + k}.example`, window_start: START, window_end: START + DAY, frequency: 'daily' as const, state: 'open' as const, created_at: START,
        })))
        .returning(['id', 'report_domain']).execute();
      const policies = [];
      const failures = [];
      for (const w of rows) {
        ids.push(Number(w.id));
        const d = w.report_domain;
        const record = `v=TLSRPTv1; rua=mailto:tlsrpt@${d}`;
        for (const [fp, policy] of [
          ['sts', { policyType: 'sts', policyString: ['version: STSv1', 'mode: enforce', `mx: *.${d}`, 'max_age: 604800'], policyDomain: d, mxHost: [`*.${d}`] }],
          ['tlsa', { policyType: 'tlsa', policyString: ['3 1 1 0C72AC70B745AC19998811B131D662C9AC69DBDBE7CB23E5B514B56664C5D3D6'], policyDomain: d, mxHost: [] }],
        ] as const) {
          policies.push({ window_id: Number(w.id), fingerprint: fp, tlsrpt_record: record, policy_json: JSON.stringify(policy), successful: 1000, failed: 6 });
          for (let j = 0; j < 3; j++) {
            failures.push({
              window_id: Number(w.id), fingerprint: fp, detail_key: `k${j}`, count: j + 1,
              detail_json: JSON.stringify({ resultType: j === 0 ? 'certificate-expired' : j === 1 ? 'starttls-not-supported' : 'validation-failure', sendingMtaIp: '192.0.2.10', receivingMxHostname: `mx${j}.${d}`, receivingIp: `198.51.100.${j + 1}` }),
            });
          }
        }
      }
      await trx.insertInto('outbound_policy').values(policies).execute();
      for (let k = 0; k < failures.length; k += 1000) await trx.insertInto('outbound_failure').values(failures.slice(k, k + 1000)).execute();
    });
  }
}

