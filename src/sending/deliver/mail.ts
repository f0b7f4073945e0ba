/**
 * @module sending/deliver/mail — RFC 8460 §5.3 e-mail delivery: a `multipart/report;
 * report-type="tlsrpt"` message (human-readable text + `application/tlsrpt+gzip` attachment),
 * DKIM-signed by the key of `dkimSignDomain` (TLS-Report-* headers in h=, no l=), sent
 * through the configured relay. Built with nodemailer's MimeNode because its composer cannot
 * make multipart/report.
 */
import { readFileSync, statSync } from 'node:fs';
import type { createTransport as CreateTransport } from 'nodemailer';
import { headerAddress, headerDomain, headerText } from '../report/headers.js';
import { classifySmtpError, type AttemptOutcome } from './retry.js';
import { normalizeDomain } from '../../common/domain.js';

/** Everything one report mail needs; every header value is checked again when building. */
export interface ReportMessage {
  fromName: string;
  fromAddress: string;
  to: string;
  subject: string;
  reportDomain: string;
  submitter: string;
  reportId: string;
  orgName: string;
  startDatetime: string;
  endDatetime: string;
  gz: Uint8Array;
  fileName: string;
  date: Date;
  /** Left part of Message-ID; the right part is the submitter. */
  messageIdLocal: string;
}

const HEADER_CASE: Record<string, string> = {
  'tls-report-domain': 'TLS-Report-Domain',
  'tls-report-submitter': 'TLS-Report-Submitter',
  'tls-required': 'TLS-Required',
  'message-id': 'Message-ID',
};

/** Headers the signature covers: RFC 8460 §3 wants the TLS-Report-* headers signed. */
export const DKIM_HEADER_FIELDS = 'From:To:Subject:Date:Message-ID:TLS-Report-Domain:TLS-Report-Submitter:TLS-Required:Auto-Submitted:MIME-Version:Content-Type';

/**
 * Builds the RFC 5322 message (CRLF line ends). Throws HeaderValueError when a value would
 * reach a header with CR, LF, NUL or another control character, or is not the kind of value
 * the header takes.
 */
export async function buildReportMessage(m: ReportMessage): Promise<Buffer> {
  const fromName = headerText('fromName', m.fromName, 200);
  const fromAddress = headerAddress('fromAddress', m.fromAddress);
  const to = headerAddress('rua mailto', m.to);
  const subject = headerText('subject', m.subject);
  const reportDomain = headerDomain('TLS-Report-Domain', m.reportDomain);
  const submitter = headerDomain('TLS-Report-Submitter', m.submitter);
  const fileName = headerText('file name', m.fileName, 500);
  const messageIdLocal = headerText('Message-ID', m.messageIdLocal, 200);
  if (!/^[A-Za-z0-9._!#$%&'*+/=?^`{|}~-]+$/.test(messageIdLocal)) throw new Error(`Message-ID local part not usable: ${messageIdLocal}`);

  // nodemailer and mailauth are loaded when the first report mail is built: a service that sends
  // no mail (or only https reports) does not carry them.
  const { default: MimeNode } = await import('nodemailer/lib/mime-node');
  const root = new MimeNode('multipart/report; report-type="tlsrpt"', {
    newline: 'win',
    hostname: submitter,
    // The RFC spells these with capital TLS; MimeNode would write Tls-Report-Domain.
    normalizeHeaderKey: (key) => HEADER_CASE[key.toLowerCase()] ?? key,
  });
  root.setHeader('From', { name: fromName, address: fromAddress });
  root.setHeader('To', to);
  root.setHeader('Subject', subject);
  root.setHeader('Date', m.date);
  root.setHeader('Message-ID', `<${messageIdLocal}@${submitter}>`);
  root.setHeader('TLS-Report-Domain', reportDomain);
  root.setHeader('TLS-Report-Submitter', submitter);
  // RFC 8689: the report must reach receivers whose TLS is broken — that is what it reports.
  root.setHeader('TLS-Required', 'No');
  root.setHeader('Auto-Submitted', 'auto-generated');

  const text = root.createChild('text/plain; charset=utf-8');
  text.setContent(humanText(m, reportDomain, submitter));
  const att = root.createChild('application/tlsrpt+gzip', { filename: fileName });
  att.setHeader('Content-Disposition', 'attachment');
  att.setContent(Buffer.from(m.gz.buffer, m.gz.byteOffset, m.gz.byteLength));
  return root.build();
}

function humanText(m: ReportMessage, reportDomain: string, submitter: string): string {
  const flat = (s: string) => s.replace(/[\u0000-\u001f\u007f]+/g, ' ');
  return [
    'This is an aggregate TLS report (RFC 8460, SMTP TLS Reporting).',
    '',
    `Submitter:     ${submitter}`,
    `Organization:  ${flat(m.orgName)}`,
    `Report domain: ${reportDomain}`,
    `Report-ID:     ${flat(m.reportId)}`,
    `Period:        ${m.startDatetime} to ${m.endDatetime}`,
    '',
    'The report is attached as gzip-compressed JSON (application/tlsrpt+gzip).',
    '',
  ].join('\r\n');
}

export interface DkimKey { domain: string; selector: string; privateKey: string }

/**
 * Reads the `dkim` config entries (privateKeyFile → PEM) once at start. A key file other
 * users can read lets them sign mail as the domain: `onExposedKey` hears of it (the service warns).
 */
export function loadDkimKeys(entries: { domain: string; selector: string; privateKeyFile?: string; privateKey?: string }[] | undefined, onExposedKey?: (file: string, mode: string) => void): DkimKey[] {
  for (const e of entries ?? []) {
    if (!e.privateKeyFile || !onExposedKey) continue;
    const mode = statSync(e.privateKeyFile).mode & 0o777;
    if (mode & 0o044) onExposedKey(e.privateKeyFile, mode.toString(8).padStart(4, '0'));
  }
  return (entries ?? []).map((e) => ({
    domain: normalizeDomain(e.domain),
    selector: e.selector,
    privateKey: e.privateKey ?? readFileSync(e.privateKeyFile!, 'utf8'),
  }));
}

export function findDkimKey(keys: DkimKey[], domain: string): DkimKey | undefined {
  const d = normalizeDomain(domain);
  return keys.find((k) => k.domain === d);
}

/**
 * Signs with rsa-sha256, relaxed/relaxed over DKIM_HEADER_FIELDS, without l= (RFC 8460 §3).
 * mailauth's signer is used (not nodemailer's) because it writes h= before bh=: some
 * verifiers' tag scanners take the first "h=" they see, and a bh= in front of it confuses them.
 */
export async function signReportMessage(raw: Buffer, key: DkimKey, signTime: Date = new Date()): Promise<Buffer> {
  const domain = headerDomain('dkimSignDomain', key.domain);
  const selector = headerDomain('dkim selector', key.selector);
  // mailauth's typings want headerList as string[], its code reads a colon-separated string.
  const { dkimSign } = await import('mailauth/lib/dkim/sign.js');
  const result = await dkimSign(raw, {
    canonicalization: 'relaxed/relaxed',
    algorithm: 'rsa-sha256',
    signTime,
    headerList: DKIM_HEADER_FIELDS,
    signatureData: [{ signingDomain: domain, selector, privateKey: key.privateKey, algorithm: 'rsa-sha256', canonicalization: 'relaxed/relaxed' }],
  } as never);
  if (result.errors?.length) {
    const e = result.errors[0] as { error?: Error; message?: string };
    throw new Error(`DKIM signing with ${selector}._domainkey.${domain} failed: ${e.error?.message ?? e.message ?? JSON.stringify(e)}`);
  }
  if (!/^DKIM-Signature:/i.test(result.signatures)) throw new Error(`DKIM signing with ${selector}._domainkey.${domain} produced no signature`);
  return Buffer.concat([Buffer.from(result.signatures), raw]);
}

export interface RelayConfig {
  host: string;
  port: number;
  /** Implicit TLS (port 465). Otherwise STARTTLS is used when offered, or always with requireTLS. */
  secure: boolean;
  /** STARTTLS is required (default: whenever credentials are set and `secure` is off). */
  requireTLS?: boolean;
  /** Send `user`/`password` over a connection without TLS (a relay on the same host only). */
  allowPlaintextAuth?: boolean;
  user?: string;
  password?: string;
  /** Accept the relay's certificate without validation (self-signed relay on a private network). */
  tlsInsecure?: boolean;
  caFile?: string;
  /** PEM of the relay's CA (instead of caFile). */
  ca?: string;
  connectionTimeoutMs?: number;
  socketTimeoutMs?: number;
  /** Pooled connections (used by bulk sends); default 1 connection per send. */
  maxConnections?: number;
}

/** The relay as the delivery queue sees it: one envelope, one raw message, one outcome. */
export interface ReportMailer {
  send(envelope: { from: string; to: string }, raw: Buffer): Promise<AttemptOutcome>;
  close(): void;
}

/**
 * Credentials never cross the network in clear: with a user set and no implicit TLS, STARTTLS
 * is required (a relay that does not offer it fails the attempt before AUTH) unless the config
 * says `allowPlaintextAuth: true`.
 */
export function relayRequiresTls(relay: Pick<RelayConfig, 'secure' | 'requireTLS' | 'allowPlaintextAuth' | 'user'>): boolean {
  if (relay.requireTLS !== undefined) return relay.requireTLS || (Boolean(relay.user) && !relay.secure && !relay.allowPlaintextAuth);
  return Boolean(relay.user) && !relay.secure && !relay.allowPlaintextAuth;
}

export function createRelayMailer(relay: RelayConfig): ReportMailer {
  const pooled = (relay.maxConnections ?? 0) > 1;
  const ca = relay.ca ?? (relay.caFile ? readFileSync(relay.caFile, 'utf8') : undefined);
  const options = {
    host: relay.host,
    port: relay.port,
    secure: relay.secure,
    requireTLS: relayRequiresTls(relay),
    auth: relay.user ? { user: relay.user, pass: relay.password ?? '' } : undefined,
    tls: { rejectUnauthorized: !relay.tlsInsecure, ...(ca ? { ca } : {}) },
    connectionTimeout: relay.connectionTimeoutMs ?? 15_000,
    greetingTimeout: relay.connectionTimeoutMs ?? 15_000,
    socketTimeout: relay.socketTimeoutMs ?? 60_000,
    ...(pooled ? { pool: true, maxConnections: relay.maxConnections, maxMessages: Infinity } : {}),
  } as Parameters<typeof CreateTransport>[0];
  let transport: Promise<ReturnType<typeof CreateTransport>> | undefined;
  return {
    async send(envelope, raw) {
      const from = headerAddress('envelope sender', envelope.from);
      const to = headerAddress('envelope recipient', envelope.to);
      try {
        transport ??= import('nodemailer').then((m) => m.createTransport(options));
        const info = await (await transport).sendMail({ envelope: { from, to: [to] }, raw });
        const response = String((info as { response?: string }).response ?? '').replace(/[\r\n]+/g, ' ');
        return { kind: 'sent', detail: `relay accepted: ${response}`.slice(0, 300) };
      } catch (e) {
        return classifySmtpError(e);
      }
    },
    close: () => void transport?.then((t) => t.close()),
  };
}
