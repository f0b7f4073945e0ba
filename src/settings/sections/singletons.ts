/**
 * @module settings/sections/singletons — `TlsReportSettings`, `ReportSettings`, `SystemSettings`
 * as config sections. Their fields are expressions checked field by field by `settings/validate`
 * (with positions inside expressions), so the schema here only asks for an object. Also knows
 * Stalwart ≤ 0.15's `report.*` keys, to say how to convert them instead of "unknown section".
 */
import { z } from 'zod';
import type { SectionSpec } from './common.js';

export const SingletonSection = z.record(z.string(), z.unknown()).optional();

export const singleton = { schema: SingletonSection } satisfies SectionSpec;

/** Stalwart ≤ 0.15 keys (TOML `report.tls.aggregate.*`, `report.submitter`, …) → their 0.16 field. */
export const STALWART_015_KEYS: Readonly<Record<string, string>> = {
  'report.tls.aggregate.from-name': 'TlsReportSettings.fromName',
  'report.tls.aggregate.from-address': 'TlsReportSettings.fromAddress',
  'report.tls.aggregate.subject': 'TlsReportSettings.subject',
  'report.tls.aggregate.org-name': 'TlsReportSettings.orgName',
  'report.tls.aggregate.contact-info': 'TlsReportSettings.contactInfo',
  'report.tls.aggregate.send': 'TlsReportSettings.sendFrequency',
  'report.tls.aggregate.max-size': 'TlsReportSettings.maxReportSize',
  'report.tls.aggregate.sign': 'TlsReportSettings.dkimSignDomain (a domain with a "dkim" key, not a list of signature ids)',
  'report.submitter': 'ReportSettings.outboundReportSubmitter',
  'report.analysis.addresses': 'ReportSettings.inboundReportAddresses',
  'report.analysis.forward': 'ReportSettings.inboundReportForwarding',
  'report.domain': 'SystemSettings.domain',
};

/** Every dotted key of a value (`{"report": {"tls": {"aggregate": {"send": …}}}}` → `report.tls.aggregate.send`). */
function dottedKeys(prefix: string, value: unknown): string[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [prefix];
  const out: string[] = [];
  for (const [k, v] of Object.entries(value)) out.push(...dottedKeys(`${prefix}.${k}`, v));
  return out.length ? out : [prefix];
}

/**
 * The message for a top-level key that is a Stalwart ≤ 0.15 setting (flat `"report.tls.aggregate.send"`
 * or nested `"report": {…}`), or undefined when it is not one.
 */
export function stalwart015Message(key: string, value: unknown): string | undefined {
  if (key !== 'report' && !key.startsWith('report.')) return undefined;
  const keys = dottedKeys(key, value).filter((k) => k.startsWith('report.'));
  const mapped = keys.map((k) => {
    const hit = Object.keys(STALWART_015_KEYS).find((old) => k === old || k.startsWith(`${old}.`));
    return hit ? `${hit} → ${STALWART_015_KEYS[hit]}` : `${k} → (no equivalent here)`;
  });
  return `Stalwart ≤ 0.15 settings (report.tls.aggregate.*) are not read: Stalwart 0.16 renamed them, and so does tlsrpt-hub. ` +
    `Move each into its singleton as an expression, e.g. "report.tls.aggregate.send": "daily" becomes ` +
    `"TlsReportSettings": {"sendFrequency": {"else": "daily"}}, and a string value 'X' becomes {"else": "'X'"}: ${[...new Set(mapped)].join('; ')}`;
}
