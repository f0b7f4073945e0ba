/**
 * @module sending/report/discovery — where a policy domain's report goes: the TLSRPT record the MTA
 * supplied with its events (libtlsrpt `pr`) when there is a usable one, else a DNS lookup of
 * `_smtp._tls.<policy-domain>` under RFC 8460 §3 (exactly one v=TLSRPTv1 record), cached by
 * its TTL. No usable record means no report.
 */
import { parseTlsrptRecord, type RuaTarget } from '../../rfc8460/index.js';
import { lookupTlsrptRecord, DnsError, type Resolver, type TlsrptLookup, type TtlCache } from '../../dns/index.js';

export type Discovery =
  | { kind: 'ok'; rua: RuaTarget[]; source: 'mta' | 'dns'; record: string; ignored: { uri: string; reason: string }[] }
  | { kind: 'none'; source: 'mta' | 'dns'; reason: string }
  | { kind: 'temporary'; reason: string };

/** A report goes to at most this many targets: a hostile record must not turn us into a mail cannon. */
export const MAX_RUA_TARGETS = 10;

/**
 * @param mtaRecords the records the MTA saw with its events, each with the number of sessions
 *   that carried it; the one most sessions saw wins (deterministic when the record changed mid-window).
 * @example discoverRuaTargets('example.net', [{ record: 'v=TLSRPTv1; rua=mailto:r@example.net', sessions: 40 }], { resolver })
 */
export async function discoverRuaTargets(
  policyDomain: string,
  mtaRecords: { record: string; sessions: number }[],
  deps: { resolver: Resolver; cache?: TtlCache<TlsrptLookup> },
): Promise<Discovery> {
  const supplied = [...mtaRecords].filter((r) => r.record.trim() !== '')
    .sort((a, b) => b.sessions - a.sessions || (a.record < b.record ? -1 : a.record > b.record ? 1 : 0));
  for (const r of supplied) {
    const parsed = parseTlsrptRecord(r.record.trim());
    if (parsed.ok && parsed.rua.length) {
      return { kind: 'ok', rua: dedupe(parsed.rua), source: 'mta', record: r.record.trim(), ignored: parsed.ignored };
    }
  }
  // No usable record from the MTA (none sent, or it does not parse): ask DNS ourselves.
  let found: TlsrptLookup;
  try {
    found = await lookupTlsrptRecord(policyDomain, deps.resolver, deps.cache);
  } catch (e) {
    if (e instanceof DnsError || (e as { temporary?: boolean }).temporary) return { kind: 'temporary', reason: (e as Error).message };
    return { kind: 'temporary', reason: `DNS lookup of _smtp._tls.${policyDomain} failed: ${(e as Error).message}` };
  }
  if (!found.ok) return { kind: 'none', source: 'dns', reason: found.reason };
  if (found.rua.length === 0) return { kind: 'none', source: 'dns', reason: `no usable rua URI in ${found.name}` };
  return { kind: 'ok', rua: dedupe(found.rua), source: 'dns', record: found.record ?? '', ignored: found.ignored };
}

function dedupe(rua: RuaTarget[]): RuaTarget[] {
  const seen = new Set<string>();
  const out: RuaTarget[] = [];
  for (const t of rua) {
    const key = t.scheme === 'mailto' ? `mailto:${t.address.toLowerCase()}` : t.url;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(t);
  }
  return out.slice(0, MAX_RUA_TARGETS);
}
