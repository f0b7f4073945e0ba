/**
 * @module receiving/extract/mime — walks an e-mail's MIME tree (postal-mime) and hands every
 * leaf that could hold a report to the payload sniffer: any multipart shape (RFC 6522
 * `multipart/report` with `report-type` quoted or not, in any parameter position, or none),
 * forwarded `message/rfc822` parts followed recursively. Human-readable HTML is skipped.
 */
import PostalMime from 'postal-mime';
import { Budget, ExtractError } from './errors.js';
import { collectPayloads, type ExtractedPayload } from './payload.js';

/** The message headers a report's provenance is judged by (quirks.md "Sender identity"). */
export interface ExtractedMessage {
  isEmail: boolean;
  from?: string;
  subject?: string;
  messageId?: string;
  /** RFC 8460 §5.3 header fields. */
  tlsReportDomain?: string;
  tlsReportSubmitter?: string;
  /** ISO 8601 when the Date header parses, else the header as given. */
  date?: string;
  /** Forwarded messages (message/rfc822 parts) that held reports: their raw bytes (for DKIM) and headers. */
  forwarded?: { source: string; raw: Uint8Array; message: ExtractedMessage }[];
}

/** The parts of postal-mime's parse tree we read (postal-mime 4.0.0, pinned). */
interface MimeTreeNode {
  contentType: { parsed: { value: string; params: Record<string, string> }; multipart: string | false };
  contentDisposition: { parsed: { value: string; params: Record<string, string> } };
  content: ArrayBuffer | null;
  childNodes: MimeTreeNode[];
}

/** True when the input starts like an RFC 5322 message: a header field, or an mbox `From ` line. */
export function looksLikeEmail(b: Uint8Array): boolean {
  const head = Buffer.from(b.subarray(0, 1000)).toString('latin1');
  return /^From /.test(head) || /^[\x21-\x39\x3b-\x7e]+[ \t]*:/.test(head);
}

/** The number of lines that start with `--`: an upper bound on MIME parts, known before parsing. */
function delimiterLines(b: Uint8Array): number {
  const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  let n = 0;
  for (let p = buf.indexOf('\n--'); p !== -1; p = buf.indexOf('\n--', p + 3)) n++;
  return n;
}

function stripMboxFromLine(b: Uint8Array): Uint8Array {
  if (!(b[0] === 0x46 && b[1] === 0x72 && b[2] === 0x6f && b[3] === 0x6d && b[4] === 0x20)) return b;
  const nl = b.indexOf(0x0a);
  return nl === -1 ? b.subarray(b.length) : b.subarray(nl + 1);
}

/** Context shared by one extraction, across forwarded messages. */
export interface WalkContext { budget: Budget; payloads: ExtractedPayload[]; problems: ExtractError[] }

/**
 * Parses `raw` as an e-mail, appends its report payloads to `ctx` and returns its headers.
 * `depth` is the MIME depth at which this message sits (0 for the outer message).
 */
export async function walkEmail(raw: Uint8Array, ctx: WalkContext, depth: number, prefix: string): Promise<ExtractedMessage> {
  const { limits } = ctx.budget;
  if (depth > limits.maxMimeDepth) throw tooDeep(limits.maxMimeDepth);
  // Cheap guard before the parser allocates a node per part.
  if (delimiterLines(raw) > 4 * limits.maxMimeParts) {
    throw new ExtractError('too-many-parts', `the message has far more than ${limits.maxMimeParts} MIME parts; refusing it`);
  }
  const parser = new PostalMime({
    forceRfc822Attachments: true, // we follow message/rfc822 ourselves, within our own limits
    maxNestingDepth: limits.maxMimeDepth - depth,
    maxHeadersSize: 1024 * 1024,
  });
  let email: Awaited<ReturnType<PostalMime['parse']>>;
  try {
    email = await parser.parse(stripMboxFromLine(raw));
  } catch (e) {
    const msg = (e as Error)?.message ?? String(e);
    if (/nesting depth/i.test(msg)) throw tooDeep(limits.maxMimeDepth);
    throw new ExtractError('malformed-mime', `the e-mail could not be parsed: ${msg}`);
  }
  const root = (parser as unknown as { root: MimeTreeNode }).root;
  const message = headersOf(email);
  await walkNode(root, '', ctx, depth, prefix, message);
  return message;
}

function tooDeep(max: number): ExtractError {
  return new ExtractError('mime-too-deep', `MIME parts or forwarded messages nested deeper than ${max}; refusing the message`);
}

async function walkNode(node: MimeTreeNode, path: string, ctx: WalkContext, depth: number, prefix: string, message: ExtractedMessage): Promise<void> {
  ctx.budget.countParts(1);
  if (node.contentType.multipart) {
    for (let i = 0; i < node.childNodes.length; i++) {
      await walkNode(node.childNodes[i], path ? `${path}.${i + 1}` : String(i + 1), ctx, depth + 1, prefix, message);
    }
    return;
  }
  const type = node.contentType.parsed.value.toLowerCase();
  const filename = node.contentDisposition.parsed.params.filename || node.contentType.parsed.params.name || undefined;
  const source = `${prefix}part ${path || '1'} ${type}${filename ? ` (${filename})` : ''}`;
  const content = node.content ? new Uint8Array(node.content) : new Uint8Array(0);
  // The human-readable part of RFC 6522 is for people; some senders send only HTML (quirks.md).
  if (type === 'text/html') return;
  if (type === 'message/rfc822' || type === 'message/global') {
    const before = ctx.payloads.length;
    const inner = await walkEmail(content, ctx, depth + 1, `${source} > `);
    if (ctx.payloads.length > before) (message.forwarded ??= []).push({ source, raw: content, message: inner });
    return;
  }
  const before = ctx.payloads.length, problemsBefore = ctx.problems.length;
  collectPayloads(content, source, filename, ctx.budget, ctx.payloads, ctx.problems);
  if (ctx.payloads.length === before && ctx.problems.length === problemsBefore && type.includes('tlsrpt')) {
    ctx.problems.push(new ExtractError('not-a-tls-report', `${source}: labelled ${type} but holds neither JSON, gzip nor zip`));
  }
}

function headersOf(email: { headers: { key: string; value: string }[]; from?: { address?: string }; subject?: string; messageId?: string; date?: string }): ExtractedMessage {
  const header = (k: string) => email.headers.find((h) => h.key === k)?.value.trim() || undefined;
  const m: ExtractedMessage = { isEmail: true };
  const from = email.from?.address || header('from');
  if (from) m.from = from;
  if (email.subject) m.subject = email.subject;
  if (email.messageId) m.messageId = email.messageId.trim();
  const domain = header('tls-report-domain');
  if (domain) m.tlsReportDomain = domain;
  const submitter = header('tls-report-submitter');
  if (submitter) m.tlsReportSubmitter = submitter;
  if (email.date) m.date = email.date;
  return m;
}
