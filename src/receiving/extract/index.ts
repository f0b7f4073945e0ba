/**
 * @module receiving/extract — bytes of a file or an e-mail in, every TLS report payload
 * inside out, within hard limits. One entry point: {@link extractReports}.
 */
import { Budget, DEFAULT_LIMITS, ExtractError, type ExtractLimits } from './errors.js';
import { looksLikeEmail, walkEmail, type ExtractedMessage, type WalkContext } from './mime.js';
import { collectPayloads, sniff, type ExtractedPayload } from './payload.js';

export { DEFAULT_LIMITS, ExtractError, type ExtractLimits } from './errors.js';
export type { ExtractedMessage } from './mime.js';
export type { ExtractedPayload } from './payload.js';
export { sniff } from './payload.js';

export interface ExtractResult { payloads: ExtractedPayload[]; message: ExtractedMessage }

/**
 * Finds all report payloads in a bare report file (`.json`, `.json.gz`, `.zip`) or an e-mail
 * (any MIME shape, forwarded reports included), detected by sniffing the bytes.
 * Resolves with at least one payload, or rejects with an {@link ExtractError} — never with
 * anything else: 'too-large' (checked before parsing), 'decompressed-too-large',
 * 'compression-ratio', 'zip-too-many-entries', 'too-many-parts', 'mime-too-deep',
 * 'malformed-mime', 'invalid-gzip', 'invalid-zip', or 'not-a-tls-report' (DMARC, bounces, …).
 * @example
 * const { payloads, message } = await extractReports(readFileSync('report.eml'));
 * for (const p of payloads) parseReport(p.bytes);
 */
export async function extractReports(input: Uint8Array, limits?: Partial<ExtractLimits>): Promise<ExtractResult> {
  const lim: ExtractLimits = { ...DEFAULT_LIMITS, ...definedOnly(limits) };
  if (input.byteLength > lim.maxInputBytes) {
    throw new ExtractError('too-large', `the input has ${input.byteLength} bytes, more than the limit of ${lim.maxInputBytes}; refusing it`);
  }
  const ctx: WalkContext = { budget: new Budget(lim), payloads: [], problems: [] };
  let message: ExtractedMessage;
  try {
    const { kind } = sniff(input);
    if (kind !== 'unknown') {
      message = { isEmail: false };
      collectPayloads(input, `file (${kind})`, undefined, ctx.budget, ctx.payloads, ctx.problems);
    } else if (looksLikeEmail(input)) {
      message = await walkEmail(input, ctx, 0, '');
    } else {
      throw new ExtractError('not-a-tls-report', 'the input is neither report JSON, gzip, zip nor an e-mail');
    }
  } catch (e) {
    if (e instanceof ExtractError) throw e;
    // The service never dies from input: anything unforeseen is still a typed rejection.
    throw Object.assign(new ExtractError('extract-failed', `extraction failed unexpectedly: ${(e as Error)?.message ?? e}`), { cause: e });
  }
  if (ctx.payloads.length === 0) {
    throw ctx.problems[0] ?? new ExtractError('not-a-tls-report',
      message.isEmail ? 'the e-mail holds no TLS report (no JSON, gzip or zip report attachment)' : 'the file holds no TLS report JSON');
  }
  return { payloads: ctx.payloads, message };
}

function definedOnly(o?: Partial<ExtractLimits>): Partial<ExtractLimits> {
  const out: Partial<ExtractLimits> = {};
  for (const [k, v] of Object.entries(o ?? {})) if (typeof v === 'number' && Number.isFinite(v) && v >= 0) (out as Record<string, number>)[k] = v;
  return out;
}
