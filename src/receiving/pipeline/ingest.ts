/**
 * @module receiving/pipeline/ingest — the ONE ingestion pipeline every receiving channel feeds (HTTP
 * endpoint, SMTP/LMTP listener, IMAP poller, file import): extract → DKIM (e-mail only) →
 * parse leniently → authorise → de-duplicate + store. A channel only turns its input into
 * bytes plus metadata; what happens to a report, and why, is decided here once, counted
 * (prom-client) and logged with the reason. Bad input never throws: it becomes an outcome.
 */
import type { Logger } from '../../common/log.js';
import { boundedLabel, counter } from '../../common/metrics.js';
import type { Store } from '../../store/index.js';
import type { ReceivingSection } from '../../settings/sections/index.js';
import { parseReport } from '../../rfc8460/parse.js';
import type { Finding, TlsReport } from '../../rfc8460/types.js';
import { extractReports, ExtractError, type ExtractLimits, type ExtractedMessage } from '../extract/index.js';
import { saveInboundReport, storedForms, type InboundChannel, type InboundMessageMeta, type InboundReportInput, type StoredForms } from '../persist/inbound-store.js';
import { dkimVerdict, summarizeDkim, verifyDkimSignatures, type DkimResolver, type DkimResult, type DkimSignatureResult } from '../dkim/verify.js';
import { authorizeReport } from './authorize.js';
import { organizationalDomain, reporterOf } from '../../identity/org-domain.js';

/** The channel a report arrived by: one list, kept with the stored report (persist/inbound-store). */
export type IngestChannel = InboundChannel;

export interface IngestMeta {
  channel: IngestChannel;
  /** Client IP (HTTP, SMTP), IMAP account, … */
  peer?: string;
  /** Epoch seconds the input arrived. */
  receivedAt: number;
  /** SMTP envelope (MAIL FROM, RCPT TO). */
  envelope?: { mailFrom?: string; rcptTo?: string[] };
  /** Where the input came from, for logs and the stored record: a file path, `INBOX uid 42`, … */
  source?: string;
  /** A tighter cap on the decompressed report for this input (the public HTTP endpoint's `http.reportMaxInflatedBytes`). */
  maxDecompressedBytes?: number;
}

export type IngestStatus = 'imported' | 'duplicate' | 'not-a-report' | 'rejected' | 'failed';

export interface IngestOutcome {
  status: IngestStatus;
  /** Machine-readable cause: an ExtractError/ReportError code, 'dkim', 'unauthorized', 'internal'. */
  code?: string;
  reason?: string;
  /** Stored report id (imported) or the id of the copy already stored (duplicate). */
  id?: number | string;
  reportId?: string;
  /** Which part of the input the outcome is about (e.g. `part 2 application/tlsrpt+gzip`). */
  part?: string;
  /** Bytes of the report JSON after decompression (what parsing and storing it cost grows with). */
  payloadBytes?: number;
}

export interface Ingestor {
  /** One outcome per report found in the input (at least one outcome per input). Never throws for bad input. */
  ingest(bytes: Uint8Array, meta: IngestMeta): Promise<IngestOutcome[]>;
}

/** The `receiving` config section (schema: `settings/sections/receiving.ts`). */
export type ReceivingOptions = ReceivingSection;

export interface IngestDeps {
  store: Store;
  log: Logger;
  options?: Partial<ReceivingOptions>;
  /** Extraction limits, read per input so a settings change applies at once (e.g. `inboundReportMaxSize`). */
  limits?: () => Partial<ExtractLimits>;
  /** DNS for DKIM keys (mailauth contract); default: the system resolver. */
  resolver?: DkimResolver;
  /** Clock for DKIM expiry checks. */
  now?: () => Date;
  /** The CPU-heavy phase; default `analyseInput` in this thread (see `sources/analyse-pool.ts` for worker threads). */
  analyse?: (bytes: Uint8Array, limits?: Partial<ExtractLimits>) => Promise<Analysis>;
  /** The store writer (tests may count calls); default `saveInboundReport`. */
  save?: typeof saveInboundReport;
}

const outcomesCounter = counter('tlsrpt_inbound_reports_total',
  'Inbound reports by channel, outcome (imported, duplicate, not-a-report, rejected, failed) and cause code', ['channel', 'status', 'code']);
// What the reports say (issue 12): sessions by policy domain (bounded) and result.
const sessionsCounter = counter('tlsrpt_inbound_sessions_total',
  'TLS sessions in received reports, by policy domain (first 100 seen, then "other") and result (successful, or the failure result-type)', ['policy_domain', 'result']);
const inputsCounter = counter('tlsrpt_inbound_inputs_total', 'Inputs (requests, messages, files) handed to the ingestion pipeline', ['channel']);
const bytesCounter = counter('tlsrpt_inbound_bytes_total', 'Bytes of input handed to the ingestion pipeline', ['channel']);

/**
 * One payload of an input after the CPU-heavy phase (extract, parse, DKIM signatures and who they
 * attribute the report to): plain data, cloneable to and from a worker thread. Everything that
 * needs the Public Suffix List is decided here, so a thread that only stores never loads it.
 */
export interface AnalysedPayload {
  source: string;
  filename?: string;
  /** The payload (decompressed report JSON bytes). */
  json: Uint8Array;
  /** The message it came in (the innermost forwarded one, else the input), without raw bytes. */
  carrier: Omit<ExtractedMessage, 'forwarded'>;
  parsed: { report: TlsReport; findings: Finding[]; forms: StoredForms } | { error: { status: IngestStatus; code: string; reason: string } };
  /** The DKIM result of the carrier (its signatures, the one judged), when it is an e-mail and the payload parsed. */
  dkim?: DkimResult;
  /** Attributed to its reporter (`isAttributed`). */
  verified?: boolean;
}

export type Analysis =
  | { ok: true; isEmail: boolean; payloads: AnalysedPayload[] }
  | { ok: false; status: IngestStatus; code: string; reason: string };

export interface AnalyseOptions {
  limits?: Partial<ExtractLimits>;
  resolver?: DkimResolver;
  now?: Date;
}

/**
 * The CPU-heavy, store-free half of the pipeline: extract every payload, parse each leniently,
 * and check the DKIM signatures of the message each came in (once per message; a forwarded
 * report is judged by its own inner message). Runs in-process or in a worker thread
 * (`sources/analyse-pool.ts`); never throws for bad input.
 */
export async function analyseInput(bytes: Uint8Array, opts: AnalyseOptions = {}): Promise<Analysis> {
  let extracted: Awaited<ReturnType<typeof extractReports>>;
  try {
    extracted = await extractReports(bytes, opts.limits);
  } catch (e) {
    if (e instanceof ExtractError) return { ok: false, status: LIMIT_CODES.has(e.code) ? 'rejected' : 'not-a-report', code: e.code, reason: e.message };
    throw e;
  }
  const { payloads, message } = extracted;
  if (!payloads.length) return { ok: false, status: 'not-a-report', code: 'not-a-tls-report', reason: 'no TLS report found in the input' };
  const checked = new Map<Uint8Array, Promise<DkimSignatureResult[]>>();
  const signaturesOf = (raw: Uint8Array) => {
    let p = checked.get(raw);
    if (!p) checked.set(raw, (p = verifyDkimSignatures(raw, { resolver: opts.resolver, now: opts.now })));
    return p;
  };
  const out: AnalysedPayload[] = [];
  for (const payload of payloads) {
    const { raw, message: carrierFull } = carrierOf(payload.source, bytes, message);
    const { forwarded: _f, ...carrier } = carrierFull;
    let parsed: AnalysedPayload['parsed'];
    try {
      const r = parseReport(payload.bytes, carrier.tlsReportDomain ? { policyDomainHint: carrier.tlsReportDomain } : {});
      parsed = { ...r, forms: storedForms(r.report, payload.bytes, bytes) };
    } catch (e) {
      if (!(e instanceof Error) || !('code' in e)) throw e;
      const code = String((e as { code?: string }).code ?? 'not-a-tls-report');
      parsed = { error: { status: LIMIT_CODES.has(code) ? 'rejected' : 'not-a-report', code, reason: e.message } };
    }
    const report = 'report' in parsed ? parsed.report : undefined;
    const dkim = carrier.isEmail && report
      ? summarizeDkim(await signaturesOf(raw), { contactInfo: report.contactInfo, submitter: carrier.tlsReportSubmitter, from: carrier.from })
      : undefined;
    out.push({
      source: payload.source,
      ...(payload.filename ? { filename: payload.filename } : {}),
      json: payload.bytes,
      carrier,
      parsed,
      ...(dkim && report ? { dkim, verified: isAttributed(dkim, report) } : {}),
    });
  }
  return { ok: true, isEmail: message.isEmail, payloads: out };
}

/** Extraction errors that are a safety limit (rejected), as opposed to "this is not a report". */
const LIMIT_CODES = new Set(['too-large', 'decompressed-too-large', 'zip-too-many-entries', 'compression-ratio', 'too-many-parts', 'mime-too-deep', 'too-deep']);

/**
 * @example
 * const ingestor = createIngestor({ store, log, options: config.receiving, resolver });
 * const outcomes = await ingestor.ingest(body, { channel: 'http', peer: '192.0.2.1', receivedAt: nowSeconds() });
 */
function countSessions(report: TlsReport): void {
  // Summed per label set first: one counter update per (domain, result), not per detail row
  // (prom-client builds a label key for each call; 40,000 details took ~50 ms of the loop).
  const sums = new Map<string, Map<string, number>>();
  const add = (domain: string, result: string, n: number) => {
    if (n <= 0) return;
    let m = sums.get(domain);
    if (!m) sums.set(domain, (m = new Map()));
    m.set(result, (m.get(result) ?? 0) + n);
  };
  for (const p of report.policies) {
    const domain = p.policy.policyDomain.toLowerCase();
    add(domain, 'successful', p.summary.totalSuccessfulSessionCount);
    let detailed = 0;
    for (const d of p.failureDetails) {
      add(domain, d.resultType, d.failedSessionCount);
      detailed += Math.max(0, d.failedSessionCount);
    }
    // Failures the report counts in its summary but does not detail.
    add(domain, 'failure-undetailed', p.summary.totalFailureSessionCount - detailed);
  }
  for (const [domain, results] of sums) {
    const policyDomain = boundedLabel('tlsrpt_inbound_sessions_total', domain);
    for (const [result, n] of results) sessionsCounter.inc({ policy_domain: policyDomain, result }, n);
  }
}

export function createIngestor(deps: IngestDeps): Ingestor {
  const options: ReceivingOptions = { dkim: 'flag', policyDomains: [], mxHosts: [], ...deps.options };
  const save = deps.save ?? saveInboundReport;

  const finish = (meta: IngestMeta, outcome: IngestOutcome): IngestOutcome => {
    outcomesCounter.inc({ channel: meta.channel, status: outcome.status, code: outcome.code ?? 'ok' });
    const fields = { channel: meta.channel, peer: meta.peer, source: meta.source, part: outcome.part, status: outcome.status, code: outcome.code, reason: outcome.reason, reportId: outcome.reportId, id: outcome.id };
    if (outcome.status === 'failed') deps.log.error(fields, 'inbound report failed');
    else if (outcome.status === 'imported' || outcome.status === 'duplicate') deps.log.info(fields, `inbound report ${outcome.status}`);
    else deps.log.info(fields, `inbound input ${outcome.status}`);
    return outcome;
  };

  const analyse = deps.analyse ?? ((bytes: Uint8Array, limits?: Partial<ExtractLimits>) => analyseInput(bytes, { limits, resolver: deps.resolver, now: deps.now?.() }));

  async function ingestOne(bytes: Uint8Array, meta: IngestMeta): Promise<IngestOutcome[]> {
    const limits = { ...deps.limits?.() };
    if (meta.maxDecompressedBytes) limits.maxDecompressedBytes = Math.min(limits.maxDecompressedBytes ?? Infinity, meta.maxDecompressedBytes);
    const analysis = await analyse(bytes, limits);
    if (!analysis.ok) return [finish(meta, { status: analysis.status, code: analysis.code, reason: analysis.reason })];
    const outcomes: IngestOutcome[] = [];
    for (const payload of analysis.payloads) {
      const part = analysis.payloads.length > 1 || analysis.isEmail ? payload.source : undefined;
      const payloadBytes = payload.json.byteLength;
      if ('error' in payload.parsed) {
        outcomes.push(finish(meta, { ...payload.parsed.error, part, payloadBytes }));
        continue;
      }
      const { report, findings, forms } = payload.parsed;
      const { carrier } = payload;
      const reportId = report.reportId;
      const { dkim } = payload;
      if (dkim) {
        const verdict = dkimVerdict(dkim, options.dkim);
        if (!verdict.accept) {
          outcomes.push(finish(meta, { status: 'rejected', code: 'dkim', reason: verdict.reason, reportId, part, payloadBytes }));
          continue;
        }
      }
      const auth = authorizeReport(report, options);
      if (!auth.ok) {
        outcomes.push(finish(meta, { status: 'rejected', code: 'unauthorized', reason: auth.reason, reportId, part, payloadBytes }));
        continue;
      }
      const input: InboundReportInput = {
        raw: bytes,
        json: payload.json,
        report,
        findings,
        channel: meta.channel,
        receivedAt: meta.receivedAt,
        ...(meta.peer ? { peer: meta.peer } : {}),
        ...(meta.envelope ? { envelope: meta.envelope } : {}),
        ...(dkim ? { dkim: storedDkim(dkim) } : {}),
        verified: payload.verified === true,
        message: messageMeta(carrier, payload, meta),
        forms,
      };
      const saved = await save(deps.store, input);
      if (saved.status !== 'duplicate') countSessions(report);
      outcomes.push(finish(meta, {
        status: saved.status === 'duplicate' ? 'duplicate' : 'imported',
        id: saved.id,
        reportId,
        part,
        payloadBytes,
        ...(saved.status === 'duplicate' ? { code: 'duplicate', reason: `already stored as report ${saved.id}` } : {}),
      }));
    }
    return outcomes;
  }

  return {
    async ingest(bytes, meta) {
      inputsCounter.inc({ channel: meta.channel });
      bytesCounter.inc({ channel: meta.channel }, bytes.byteLength);
      try {
        return await ingestOne(bytes, meta);
      } catch (e) {
        // A bug or an unavailable store: the input is not lost (the channel keeps or re-asks for it).
        return [finish(meta, { status: 'failed', code: 'internal', reason: (e as Error)?.message ?? String(e) })];
      }
    },
  };
}

/**
 * A report is attributed to its reporter only when a passing DKIM signature aligns with the
 * contact-info or TLS-Report-Submitter domain (never From alone) and the signer is the reporter
 * the report is filed under (issue 10: an HTTPS POST is unauthenticated, and a mail signed by
 * evil.test naming google.com must not count as google.com's).
 */
export function isAttributed(dkim: DkimResult | undefined, report: TlsReport): boolean {
  if (!dkim || dkim.result !== 'pass' || !dkim.signingDomain) return false;
  if (dkim.alignedWith !== 'contact-info' && dkim.alignedWith !== 'tls-report-submitter') return false;
  return organizationalDomain(dkim.signingDomain) === reporterOf(report);
}

function storedDkim(d: DkimResult): NonNullable<InboundReportInput['dkim']> {
  const { signatures: _all, signingDomain, ...rest } = d;
  return { ...rest, ...(signingDomain ? { domain: signingDomain } : {}) };
}

/** The message a payload came in: the innermost forwarded message/rfc822 holding it, else the input itself. */
function carrierOf(source: string, raw: Uint8Array, message: ExtractedMessage): { raw: Uint8Array; message: ExtractedMessage } {
  let best: { raw: Uint8Array; message: ExtractedMessage } = { raw, message };
  let bestLength = -1;
  const visit = (m: ExtractedMessage) => {
    for (const f of m.forwarded ?? []) {
      if (source.startsWith(`${f.source} > `) && f.source.length > bestLength) {
        best = { raw: f.raw, message: f.message };
        bestLength = f.source.length;
      }
      visit(f.message);
    }
  };
  visit(message);
  return best;
}

function messageMeta(m: Omit<ExtractedMessage, 'forwarded'>, payload: { source: string; filename?: string }, meta: IngestMeta): InboundMessageMeta {
  const source = [meta.source, payload.source].filter(Boolean).join(': ');
  return {
    ...(m.from ? { from: m.from } : {}),
    ...(m.subject ? { subject: m.subject } : {}),
    ...(m.messageId ? { messageId: m.messageId } : {}),
    ...(m.date ? { date: m.date } : {}),
    ...(m.tlsReportDomain ? { tlsReportDomain: m.tlsReportDomain } : {}),
    ...(m.tlsReportSubmitter ? { tlsReportSubmitter: m.tlsReportSubmitter } : {}),
    ...(source ? { source } : {}),
    ...(payload.filename ? { filename: payload.filename } : {}),
  };
}

/** Sums outcomes up by status (for CLI and channel replies). */
export function countOutcomes(outcomes: Iterable<IngestOutcome>): Record<IngestStatus, number> {
  const counts: Record<IngestStatus, number> = { imported: 0, duplicate: 0, 'not-a-report': 0, rejected: 0, failed: 0 };
  for (const o of outcomes) counts[o.status]++;
  return counts;
}
