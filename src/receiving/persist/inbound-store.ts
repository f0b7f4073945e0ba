/**
 * @module receiving/persist/inbound-store — stores one received report, once. The de-duplication key
 * never depends on the channel (docs/spec/quirks.md): (reporter, report-id), where the reporter comes
 * from the report JSON (organisational domain of contact-info, else organization-name), and
 * (reporter, policy domains, date-range, content hash) for re-generated copies with a new
 * report-id. Both are unique indexes and the insert is `ON CONFLICT DO NOTHING`, so two
 * channels or two nodes storing the same report at once still store it once.
 */
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { ExpressionBuilder, Kysely, Transaction } from 'kysely';
import type { Store } from '../../store/index.js';
import type { Database } from '../../store/schema.js';
import type { Finding, TlsReport } from '../../rfc8460/types.js';
import { serializeReport } from '../../rfc8460/serialize.js';
import { MAX_SESSION_COUNT } from '../../rfc8460/values.js';
import { reporterOf } from '../../identity/org-domain.js';
import { normalizeDomain } from '../../common/domain.js';
import { DAY } from '../../common/time.js';
import { packReport, type PackedReport } from '../../store/packed.js';

export type InboundChannel = 'http' | 'smtp' | 'lmtp' | 'imap' | 'file';

/** The DKIM verdict about an e-mailed report (receiving/dkim `DkimResult` fits). */
export interface InboundDkim {
  result: 'pass' | 'fail' | 'none';
  /** `d=` of the signature judged. `signingDomain` is accepted as a synonym. */
  domain?: string;
  signingDomain?: string;
  aligned: boolean;
  alignedWith?: string;
  selector?: string;
  comment?: string;
  coversReportHeaders?: boolean;
}

export interface InboundMessageMeta {
  from?: string;
  subject?: string;
  messageId?: string;
  date?: string;
  tlsReportDomain?: string;
  tlsReportSubmitter?: string;
  source?: string;
  filename?: string;
  mailFrom?: string;
  rcptTo?: string[];
}

export interface InboundReportInput {
  /** The input as received (whole e-mail, HTTP body, file). */
  raw: Uint8Array;
  /** The report payload (decompressed JSON bytes); default `raw`. */
  json?: Uint8Array;
  report: TlsReport;
  findings: Finding[];
  channel: InboundChannel;
  /** Client IP, IMAP account/mailbox, file path… */
  peer?: string;
  /** Where in the input / which input, e.g. `INBOX uid 42 part 2 application/tlsrpt+gzip`. */
  source?: string;
  /** Epoch seconds. */
  receivedAt: number;
  envelope?: { mailFrom?: string; rcptTo?: string[] };
  /** Absent → stored as result 'none', not aligned. */
  dkim?: InboundDkim;
  /**
   * Attributed: a passing DKIM signature aligns with the contact-info (or submitter) domain,
   * which is the reporter the report is filed under. Unverified copies never suppress verified ones.
   */
  verified?: boolean;
  message?: InboundMessageMeta;
  /** Precomputed by the analysis (storedForms); computed here when absent. */
  forms?: StoredForms;
}

export type SaveInboundResult =
  | { status: 'stored'; id: number; duplicate: false }
  | { status: 'duplicate'; id: number; duplicate: true };


/** The parser normalises readable date-times to `…Z`; anything else (kept as given) is not guessed at. */
function epochSeconds(iso: string, fallback: number): number {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/.test(iso ?? '')) return fallback;
  const ms = Date.parse(iso);
  return Number.isFinite(ms) ? Math.floor(ms / 1000) : fallback;
}

/**
 * A session count as stored: a whole number of at most 2^31 − 1 (the parser clamps with a
 * finding; this guards callers that build reports themselves), so sums over many rows stay
 * exact in 64-bit SQL integers on SQLite and PostgreSQL alike.
 */
function count(n: number): number {
  return Number.isFinite(n) && n > 0 ? Math.min(Math.floor(n), MAX_SESSION_COUNT) : 0;
}

/** Text as stored: PostgreSQL text cannot hold NUL, so a sender's NUL becomes U+FFFD (on both databases alike). */
function text(s: string): string;
function text(s: string | undefined | null): string | null;
function text(s: string | undefined | null): string | null {
  if (s === undefined || s === null) return null;
  return s.includes('\0') ? s.replace(/\0/g, '\uFFFD') : s;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a === b || bytes(a).equals(bytes(b));
}

function bytes(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

/** sha256 of the normalised report without its report-id: equal for a re-generated copy. */
export function reportContentHash(report: TlsReport): string {
  const text = serializeReport({ ...report, reportId: '' }, { includeExtra: true });
  return createHash('sha256').update(text).digest('hex');
}

/**
 * The report's serialised forms the store keeps: its reporter, content hash and JSON, packed with
 * the payload when large (store/packed.ts; then `reportJson` is ''). Megabytes of work for a large
 * report, and the reporter needs the Public Suffix List (50 ms to load), so the analysis computes
 * them where it parsed (a worker thread in `serve`) and hands them in with the report;
 * `saveInboundReport` computes them when absent.
 */
export interface StoredForms { reporter: string; contentHash: string; reportJson: string; packed?: PackedReport }
export function storedForms(report: TlsReport, payload: Uint8Array, raw?: Uint8Array): StoredForms {
  const reportJson = JSON.stringify(report);
  const packed = packReport(reportJson, payload, raw && !sameBytes(raw, payload) ? raw : undefined);
  return { reporter: reporterOf(report), contentHash: reportContentHash(report), ...(packed ? { reportJson: '', packed } : { reportJson }) };
}

/** The de-duplication keys of a report (exported for tests and diagnostics). */
export function dedupKeys(report: TlsReport, receivedAt: number, contentHash = reportContentHash(report), reporter = reporterOf(report)) {
  const dateStart = epochSeconds(report.dateRange.startDatetime, receivedAt);
  const dateEnd = epochSeconds(report.dateRange.endDatetime, dateStart);
  const policyDomains = [...new Set(report.policies.map((p) => (p.policy.policyDomain ?? '').toLowerCase()))].sort().join(',');
  return { reporter: text(reporter), reportId: text(report.reportId ?? ''), policyDomains: text(policyDomains), dateStart, dateEnd, contentHash };
}

/**
 * Stores a report with its policies, failure details and findings, or finds the stored copy.
 * @example
 * const r = await saveInboundReport(store, { raw, report, findings, channel: 'http', peer: '192.0.2.1', receivedAt: now });
 * if (r.status === 'duplicate') log.info({ id: r.id }, 'already stored');
 */
export async function saveInboundReport(store: Store, input: InboundReportInput): Promise<SaveInboundResult> {
  const { report } = input;
  const payload = input.json ?? input.raw;
  const rawDiffers = !sameBytes(payload, input.raw);
  const forms = input.forms ?? storedForms(report, payload, input.raw);
  const { packed } = forms;
  const keys = dedupKeys(report, input.receivedAt, forms.contentHash, forms.reporter);
  const day = Math.floor(keys.dateStart / DAY);
  let totalSuccessful = 0;
  let totalFailed = 0;
  for (const p of report.policies) {
    totalSuccessful += count(p.summary.totalSuccessfulSessionCount);
    totalFailed += count(p.summary.totalFailureSessionCount);
  }
  const dkim = input.dkim;
  const dkimDomain = dkim?.domain ?? dkim?.signingDomain;
  const envelope = input.envelope ?? (input.message?.mailFrom !== undefined || input.message?.rcptTo ? { mailFrom: input.message?.mailFrom, rcptTo: input.message?.rcptTo } : undefined);

  const row = {
    reporter: keys.reporter,
    organization_name: text(report.organizationName ?? ''),
    contact_info: text(report.contactInfo),
    report_id: keys.reportId,
    date_start: keys.dateStart,
    date_end: keys.dateEnd,
    day,
    policy_domains: keys.policyDomains,
    content_hash: keys.contentHash,
    total_successful: totalSuccessful,
    total_failed: totalFailed,
    findings_count: input.findings.length,
    channel: input.channel,
    peer: text(input.peer),
    source: text(input.source ?? input.message?.source),
    received_at: Math.floor(input.receivedAt),
    envelope_json: envelope ? JSON.stringify(envelope) : null,
    message_json: input.message ? JSON.stringify(input.message) : null,
    dkim_result: dkim?.result ?? 'none',
    dkim_domain: dkimDomain ? text(dkimDomain.toLowerCase()) : null,
    dkim_aligned: dkim?.aligned ? 1 : 0,
    dkim_json: dkim ? JSON.stringify(dkim) : null,
    report_json: packed ? '' : forms.reportJson,
    report_json_gz: packed ? bytes(packed.reportJsonGz) : null,
    payload: bytes(packed ? packed.payloadGz : payload),
    blob_encoding: packed ? 'gzip' : null,
    start_datetime: text(report.dateRange.startDatetime ?? null),
    end_datetime: text(report.dateRange.endDatetime ?? null),
    // Packed forms computed without the raw input (a caller's own) get it packed here.
    raw: !rawDiffers ? null : packed ? bytes(packed.rawGz ?? gzipSync(input.raw, { level: 1 })) : bytes(input.raw),
    verified: input.verified ? 1 : 0,
  };

  return store.db.transaction().execute(async (trx) => {
    // Writes come first in this transaction: a read first would have to upgrade its SQLite lock
    // later, which fails at once ("database is locked") when another process writes meanwhile.
    if (input.verified) {
      // The signed copy replaces whatever unauthenticated copy claimed its place (issue 10).
      await trx.deleteFrom('inbound_report').where('verified', '=', 0).where((eb) => duplicateOf(eb, keys)).execute();
    }
    const inserted = await trx
      .insertInto('inbound_report')
      .values(row)
      .onConflict((oc) => oc.doNothing())
      .returning('id')
      .executeTakeFirst();
    if (!inserted) {
      const existing = await findDuplicate(trx, keys, row.verified);
      if (!existing) throw new Error(`report ${keys.reportId} of ${keys.reporter} conflicts with a stored report that cannot be found`);
      return { status: 'duplicate', id: existing, duplicate: true } as const;
    }
    const reportRef = Number(inserted.id);
    if (!input.verified) {
      // An unverified copy never stands beside (or in for) the verified one.
      const signed = await findDuplicate(trx, keys, 1);
      if (signed !== undefined) {
        await trx.deleteFrom('inbound_report').where('id', '=', reportRef).execute();
        return { status: 'duplicate', id: signed, duplicate: true } as const;
      }
    }
    await insertChildren(trx, reportRef, input, keys.reporter, day);
    return { status: 'stored', id: reportRef, duplicate: false } as const;
  });
}

/** Rows that are this report again: same (reporter, report-id), or same content under a new report-id. */
function duplicateOf(eb: ExpressionBuilder<Database, 'inbound_report'>, keys: ReturnType<typeof dedupKeys>) {
  return eb.or([
    eb.and([eb('reporter', '=', keys.reporter), eb('report_id', '=', keys.reportId)]),
    eb.and([
      eb('reporter', '=', keys.reporter),
      eb('policy_domains', '=', keys.policyDomains),
      eb('date_start', '=', keys.dateStart),
      eb('date_end', '=', keys.dateEnd),
      eb('content_hash', '=', keys.contentHash),
    ]),
  ]);
}

async function findDuplicate(trx: Transaction<Database> | Kysely<Database>, keys: ReturnType<typeof dedupKeys>, verified: number): Promise<number | undefined> {
  const r = await trx
    .selectFrom('inbound_report')
    .select('id')
    .where('verified', '=', verified)
    .where((eb) => duplicateOf(eb, keys))
    .orderBy('id')
    .executeTakeFirst();
  return r ? Number(r.id) : undefined;
}

/**
 * Rows written between two turns of the event loop. SQLite's driver runs each statement
 * synchronously: 2,000 policies x 20 details in one go held the loop for ~1 s (bench/abuse),
 * so /healthz and every other request waited. Yielding inside the transaction is safe: other
 * store users wait for the connection (Kysely's per-connection mutex), not for the loop.
 * Measured on that report: 500 rows a turn held the loop up to 100 ms, 100 up to 30, 50 up to
 * 15 — and the whole save got faster too (Kysely builds a 500-row insert slowly).
 */
const ROWS_PER_TURN = 50;

async function insertChildren(trx: Transaction<Database>, reportRef: number, input: InboundReportInput, reporter: string, day: number): Promise<void> {
  let rows = 0;
  const written = async (n: number) => {
    rows += n;
    if (rows >= ROWS_PER_TURN) {
      rows = 0;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  };
  for (const [idx, p] of input.report.policies.entries()) {
    const policyDomain = text((p.policy.policyDomain ?? '').toLowerCase());
    const policy = await trx
      .insertInto('inbound_policy')
      .values({
        report_ref: reportRef,
        idx,
        policy_type: text(p.policy.policyType ?? ''),
        policy_domain: policyDomain,
        policy_string_json: JSON.stringify(p.policy.policyString ?? []),
        mx_host_json: JSON.stringify(p.policy.mxHost ?? []),
        successful: count(p.summary.totalSuccessfulSessionCount),
        failed: count(p.summary.totalFailureSessionCount),
        reporter,
        day,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await written(1);
    // Chunks keep each statement under PostgreSQL's 65535 bind parameters (and the loop turning).
    for (const details of chunks(p.failureDetails, ROWS_PER_TURN)) {
      await trx
        .insertInto('inbound_failure')
        .values(
          details.map((d) => ({
            report_ref: reportRef,
            policy_ref: Number(policy.id),
            result_type: text(d.resultType ?? ''),
            sending_mta_ip: text(d.sendingMtaIp || null),
            receiving_mx_hostname: d.receivingMxHostname ? text(normalizeDomain(d.receivingMxHostname)) : null,
            receiving_mx_helo: text(d.receivingMxHelo || null),
            receiving_ip: text(d.receivingIp || null),
            failed_session_count: count(d.failedSessionCount),
            additional_information: text(d.additionalInformation || null),
            failure_reason_code: text(d.failureReasonCode || null),
            extra_json: d.extra && Object.keys(d.extra).length ? JSON.stringify(d.extra) : null,
            policy_domain: policyDomain,
            reporter,
            day,
          })),
        )
        .execute();
      await written(details.length);
    }
  }
  for (const findings of chunks(input.findings, 1000)) {
    await trx
      .insertInto('inbound_finding')
      .values(findings.map((f) => ({ report_ref: reportRef, code: text(f.code), path: text(f.path), message: text(f.message) })))
      .execute();
  }
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
