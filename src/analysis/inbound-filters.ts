/**
 * @module analysis/inbound-filters — the filters of the inbound queries read from named text
 * values, one way for the HTTP query string and the CLI flags. Throws `FilterError`.
 */
import type { ListInboundFilter } from './inbound-reports.js';
import type { SummaryFilter } from './inbound-summary.js';
import { parseBool, parseCount, parseDay, parseTimeBound } from './filters.js';
import { normalizeDomain } from '../common/domain.js';

/** List filters: domain, reporter, from, to (day, date-time or epoch seconds), hasFailures, resultType, mx, ip, limit, offset. */
export function listFilterFromQuery(q: (name: string) => string | undefined): ListInboundFilter {
  const f: ListInboundFilter = {};
  const domain = q('domain');
  if (domain) f.domain = normalizeDomain(domain);
  const reporter = q('reporter');
  if (reporter) f.reporter = reporter;
  const from = q('from');
  if (from) f.from = parseTimeBound('from', from, 'from');
  const to = q('to');
  if (to) f.to = parseTimeBound('to', to, 'to');
  const failures = q('hasFailures') ?? q('has-failures');
  if (failures !== undefined) f.hasFailures = parseBool('hasFailures', failures);
  const resultType = q('resultType') ?? q('result-type');
  if (resultType) f.resultType = resultType.trim();
  const mx = q('mx');
  if (mx) f.mx = normalizeDomain(mx);
  const ip = q('ip');
  if (ip) f.ip = ip.trim();
  const limit = q('limit');
  if (limit) f.limit = parseCount('limit', limit, 1, 1000);
  const offset = q('offset');
  if (offset) f.offset = parseCount('offset', offset, 0, 1_000_000_000);
  return f;
}

/** Summary filters: domain, reporter, from, to (days, inclusive). */
export function summaryFilterFromQuery(q: (name: string) => string | undefined): SummaryFilter {
  const f: SummaryFilter = {};
  const domain = q('domain');
  if (domain) f.domain = normalizeDomain(domain);
  const reporter = q('reporter');
  if (reporter) f.reporter = reporter;
  const from = q('from');
  if (from) f.fromDay = parseDay('from', from);
  const to = q('to');
  if (to) f.toDay = parseDay('to', to);
  return f;
}
