/**
 * @module cli/commands/inbound/drift — `tlsrpt inbound drift DOMAIN`: fetches what the domain
 * publishes now (MTA-STS policy as RFC 8461 §3.3 says, TLSA RRset of each MX), records it, and
 * compares it with the policy strings reporters quote: who still uses an old policy and since
 * when, and which quoted policy was never published. `--offline` compares with the last recorded.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { configFrom, withConfig, withJson, type CommonOptions } from '../../options.js';
import type { PublishedPolicy } from '../../../analysis/drift.js';
import { clean, oneFormat, table, withCsv, withStore } from './common.js';

interface DriftOptions extends CommonOptions { csv?: boolean; offline?: boolean; dns?: string[]; httpsPort: string; ca?: string[] }

async function publishedNow(domain: string, opts: DriftOptions): Promise<PublishedPolicy[]> {
  const { config } = configFrom(opts);
  const { createResolver } = await import('../../../dns/resolver.js');
  const { checkMtaSts, mxHosts, tlsaOverUdp, tlsaText } = await import('../../../check/index.js');
  const { stsPolicyStrings } = await import('../../../analysis/drift.js');
  const { getServers } = await import('node:dns');
  const servers = opts.dns?.length ? opts.dns : config.dns?.servers;
  const resolver = createResolver({ servers, timeoutMs: 2000, attempts: 2 });
  const tlsa = tlsaOverUdp(servers?.length ? servers : getServers(), 2000);
  const ca = [...(opts.ca ?? []), ...(config.delivery?.extraCaFile ? [config.delivery.extraCaFile] : [])].map((f) => readFileSync(f, 'utf8'));
  const deps = { resolver, tlsa, ports: { https: Number(opts.httpsPort), smtp: 25 }, ca, now: Date.now, timeoutMs: 5000, ehloName: 'tlsrpt-check.invalid' };
  const out: PublishedPolicy[] = [];
  const sts = await checkMtaSts(domain, deps);
  if (sts.policyText && sts.policy) out.push({ policyType: 'sts', policyStrings: stsPolicyStrings(sts.policyText), stsId: sts.id });
  else process.stderr.write(`tlsrpt inbound drift: no MTA-STS policy fetched for ${domain}: ${sts.steps.filter((s) => s.status === 'fail').map((s) => s.detail).join('; ')}\n`);
  const hosts = await mxHosts(domain, deps).catch(() => [] as string[]);
  for (const host of hosts) {
    const answer = await tlsa(`_25._tcp.${host}`).catch(() => undefined);
    if (answer?.records.length) out.push({ policyType: 'tlsa', policyStrings: answer.records.map(tlsaText) });
  }
  return out;
}

export function register(inbound: Command): void {
  withCsv(withJson(withConfig(inbound.command('drift'))))
    .argument('<domain>', 'policy domain')
    .description('policy drift: reporters still quoting an old MTA-STS/TLSA policy, and quoted policies never published')
    .option('--offline', 'do not fetch the current policy: compare with the last one recorded')
    .option('--dns <host:port>', 'DNS server to ask (repeatable)', (v: string, acc: string[] = []) => [...acc, v])
    .option('--https-port <port>', 'port of the MTA-STS policy host', '443')
    .option('--ca <file>', 'also trust this CA (PEM; repeatable)', (v: string, acc: string[] = []) => [...acc, v])
    .action(async (domainText: string, opts: DriftOptions) => {
      oneFormat('drift', opts);
      const domain = domainText.trim().toLowerCase().replace(/\.$/, '');
      const { policyDrift, recordPublished } = await import('../../../analysis/drift.js');
      const current = opts.offline ? undefined : await publishedNow(domain, opts);
      const report = await withStore(opts, async (store) => {
        let now = current;
        if (now) await recordPublished(store, domain, now, Math.floor(Date.now() / 1000));
        else {
          // The most recently seen policy of each type counts as current.
          const rows = await store.db.selectFrom('published_policy').selectAll().where('policy_domain', '=', domain).orderBy('last_seen', 'desc').execute();
          const last = new Map<string, number>();
          for (const r of rows) if (!last.has(r.policy_type)) last.set(r.policy_type, Number(r.last_seen));
          now = rows.filter((r) => Number(r.last_seen) === last.get(r.policy_type)).map((r) => ({ policyType: r.policy_type as 'sts' | 'tlsa', policyStrings: JSON.parse(r.policy_string_json), ...(r.sts_id ? { stsId: r.sts_id } : {}) }));
        }
        return policyDrift(store, domain, now);
      }, 'write');
      if (report.unknown.length) process.exitCode = 1;
      if (opts.json) {
        process.stdout.write(JSON.stringify(report) + '\n');
        return;
      }
      if (opts.csv) {
        const { toCsv } = await import('../../../analysis/csv.js');
        const rows = report.entries.map((e) => ({ ...e, policyStrings: e.policyStrings.join('|') }));
        process.stdout.write(toCsv(['reporter', 'policyType', 'status', 'latest', 'firstDay', 'lastDay', 'reports', 'fingerprint', 'policyStrings', 'publishedFirstSeen', 'publishedLastSeen'], rows));
        return;
      }
      const out = [`Policy drift for ${domain}`, 'Published now:'];
      if (!report.current.length) out.push('  (nothing known: run without --offline, or check the domain with tlsrpt check)');
      for (const p of report.current) out.push(`  ${p.policyType} ${p.fingerprint}${p.stsId ? ` id=${p.stsId}` : ''}: ${p.policyStrings.map(clean).join(' | ')}`);
      out.push('', table(['REPORTER', 'TYPE', 'STATUS', 'FIRST DAY', 'LAST DAY', 'REPORTS', 'POLICY'],
        report.entries.map((e) => [e.reporter, e.policyType, e.status + (e.latest ? '' : ' (earlier)'), e.firstDay, e.lastDay, e.reports, `${e.fingerprint} ${e.policyStrings.join(' | ')}`])));
      for (const e of report.stale) out.push(`! ${clean(e.reporter)} still quotes an old ${e.policyType} policy (${e.fingerprint}, published until ${e.publishedLastSeen}) in reports since ${e.firstDay}, last ${e.lastDay}: a stale cache (it may keep one for max_age, RFC 8461 §5.1)`);
      for (const e of report.unknown) out.push(`✘ ${clean(e.reporter)} quotes a ${e.policyType} policy never seen published (${e.fingerprint}) from ${e.firstDay} to ${e.lastDay}: a cache older than our records, or a tampered path`);
      const unverified = report.entries.filter((e) => e.status === 'unverified');
      if (unverified.length) out.push(`- ${unverified.length} quoted polic(ies) predate what we recorded for ${domain}: not judged (run tlsrpt inbound drift regularly, e.g. daily from cron, to build the record)`);
      if (!report.stale.length && !report.unknown.length) out.push('✔ no reporter quotes an old policy or one never published while we watched');
      process.stdout.write(out.join('\n') + '\n');
    });
}
