/**
 * @module analysis/export — every stored report matching a filter, streamed as parsedmarc JSON
 * (one array), parsedmarc CSV (its `smtp_tls.csv`) or NDJSON (one parsedmarc object per line,
 * what Filebeat / Splunk HEC ingest). Reports are read in pages by (date_start, id) keyset, so
 * memory stays flat whatever the store holds; the same query runs on SQLite and PostgreSQL.
 */
import type { Store } from '../store/index.js';
import type { TlsReport } from '../rfc8460/types.js';
import { inboundReportQuery, type ListInboundFilter } from './inbound-reports.js';
import { PARSEDMARC_CSV_FIELDS, parsedmarcCsvRows, toParsedmarc, type ParsedmarcTlsReport } from './parsedmarc.js';
import { csvCell } from './csv.js';
import { FilterError } from './filters.js';
import { storedReportJson } from '../store/packed.js';

export const EXPORT_FORMATS = ['parsedmarc-json', 'parsedmarc-csv', 'ndjson'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export const EXPORT_CONTENT_TYPES: Record<ExportFormat, string> = {
  'parsedmarc-json': 'application/json; charset=utf-8',
  'parsedmarc-csv': 'text/csv; charset=utf-8',
  ndjson: 'application/x-ndjson; charset=utf-8',
};

export const EXPORT_FILE_NAMES: Record<ExportFormat, string> = {
  'parsedmarc-json': 'smtp_tls.json',
  'parsedmarc-csv': 'smtp_tls.csv',
  ndjson: 'smtp_tls.ndjson',
};

/** Reads `--format` / `?format=`; a bad value is a FilterError naming the choices. */
export function parseExportFormat(text: string | undefined): ExportFormat {
  const f = (text ?? 'parsedmarc-json').trim().toLowerCase();
  if ((EXPORT_FORMATS as readonly string[]).includes(f)) return f as ExportFormat;
  throw new FilterError('format', `expected one of ${EXPORT_FORMATS.join(', ')}, got ${JSON.stringify(text)}`);
}

const PAGE = 500;

/** Stored reports matching the filter (its limit/offset ignored), oldest first, one page in memory at a time. */
export async function* exportedReports(store: Store, filter: ListInboundFilter = {}, pageSize = PAGE): AsyncGenerator<TlsReport> {
  let after: { start: number; id: number } | undefined;
  for (;;) {
    let q = inboundReportQuery(store, { ...filter, limit: undefined, offset: undefined }).select(['r.id', 'r.date_start', 'r.report_json', 'r.report_json_gz']);
    if (after) {
      const { start, id } = after;
      q = q.where((eb) => eb.or([eb('r.date_start', '>', start), eb.and([eb('r.date_start', '=', start), eb('r.id', '>', id)])]));
    }
    const rows = await q.orderBy('r.date_start').orderBy('r.id').limit(pageSize).execute();
    for (const r of rows) yield JSON.parse(storedReportJson(r)) as TlsReport;
    if (rows.length < pageSize) return;
    const last = rows[rows.length - 1]!;
    after = { start: Number(last.date_start), id: Number(last.id) };
  }
}

function csvLine(row: Record<string, unknown>): string {
  return PARSEDMARC_CSV_FIELDS.map((f) => csvCell(row[f] as string | number | undefined)).join(',') + '\r\n';
}

/**
 * Text chunks of the export (a few KB each: one report, or the array's brackets).
 * @example for await (const chunk of exportInbound(store, 'parsedmarc-csv', { domain: 'example.com' })) out.write(chunk);
 */
export async function* exportInbound(store: Store, format: ExportFormat, filter: ListInboundFilter = {}): AsyncGenerator<string> {
  const docs = mapReports(exportedReports(store, filter));
  if (format === 'parsedmarc-json') {
    // One JSON array like parsedmarc's smtp_tls.json (indent 2), written element by element.
    let first = true;
    for await (const d of docs) {
      yield (first ? '[\n' : ',\n') + indent(JSON.stringify(d, null, 2));
      first = false;
    }
    yield first ? '[]\n' : '\n]\n';
  } else if (format === 'parsedmarc-csv') {
    yield PARSEDMARC_CSV_FIELDS.join(',') + '\r\n';
    for await (const d of docs) yield parsedmarcCsvRows(d).map(csvLine).join('');
  } else {
    for await (const d of docs) yield JSON.stringify(d) + '\n';
  }
}

async function* mapReports(reports: AsyncIterable<TlsReport>): AsyncGenerator<ParsedmarcTlsReport> {
  for await (const r of reports) yield toParsedmarc(r);
}

const indent = (json: string) => json.replace(/^/gm, '  ');
