/**
 * @module receiving/sources/smtp — tlsrpt-hub's own SMTP or LMTP listener (smtp-server). Mail
 * to an address matching `inboundReportAddresses` is handed to the ingestion pipeline; other
 * recipients are refused (550) unless an onward route (`smtp.onward`) is configured and the
 * recipient's domain is one of `smtp.onward.domains`, in which case that mail is relayed there
 * with our `Received:` header (and report mail too when `inboundReportForwarding`). Any other
 * recipient gets `550 5.7.1 relaying denied`: the onward host is usually the local MTA, which
 * trusts localhost, so relaying for anyone would make this listener an open relay.
 * Limits: SIZE advertised and enforced while streaming, clients in total and per address,
 * recipients per message, idle timeouts. LMTP answers once per recipient.
 */
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
import nodemailer from 'nodemailer';
import type { Logger } from '../../common/log.js';
import type { Ingestor, IngestOutcome } from '../pipeline/ingest.js';
import { compileAddressPatterns, compileDomainList, normaliseAddress } from './addresses.js';

export interface SmtpOnwardRoute {
  host: string;
  port: number;
  secure?: boolean;
  /** Accept the onward server's certificate without verification (a local MTA with a self-signed one). */
  tlsInsecure?: boolean;
  /** Recipient domains relayed onward (`example.org`, `*.example.org` for subdomains); others are refused. */
  domains: string[];
}

export interface SmtpListenerOptions {
  host: string;
  port: number;
  lmtp?: boolean;
  ingestor: Ingestor;
  log: Logger;
  /** Read per message so settings changes apply at once (SettingsService.inbound()). */
  inbound: () => { addresses: string[]; forwarding: boolean };
  /** Largest message accepted (SIZE), bytes. Default 30 MiB. */
  maxMessageBytes?: number;
  /** Simultaneous connections in total (default 100) and per client address (default 10). */
  maxClients?: number;
  maxClientsPerAddress?: number;
  /** Recipients per message (default 100). */
  maxRecipients?: number;
  /** Idle socket timeout, ms (default 60 s). */
  socketTimeoutMs?: number;
  /** Name in the greeting (SystemSettings hostname). */
  hostname?: string;
  onward?: SmtpOnwardRoute;
  /** Certificate for STARTTLS (PEM); without one STARTTLS is not offered. */
  tls?: { key: string | Buffer; cert: string | Buffer };
  /** Clock in epoch seconds. */
  now?: () => number;
}

export interface SmtpListener {
  readonly port: number;
  start(): Promise<void>;
  stop(): Promise<void>;
}

type Reply = { ok: true; message: string } | { ok: false; code: number; message: string };

/**
 * @example
 * const smtp = createSmtpListener({ host: '127.0.0.1', port: 2525, ingestor, log, inbound: () => settings.inbound() });
 * await smtp.start();
 */
export function createSmtpListener(opts: SmtpListenerOptions): SmtpListener {
  const maxMessageBytes = opts.maxMessageBytes ?? 30 * 1024 * 1024;
  const maxRecipients = opts.maxRecipients ?? 100;
  const maxPerAddress = opts.maxClientsPerAddress ?? 10;
  const now = opts.now ?? (() => Math.floor(Date.now() / 1000));
  const perAddress = new Map<string, number>();
  const protocol = opts.lmtp ? 'lmtp' : 'smtp';
  let port = opts.port;
  const onward = opts.onward
    ? nodemailer.createTransport({
      host: opts.onward.host, port: opts.onward.port, secure: opts.onward.secure ?? false,
      tls: { rejectUnauthorized: !opts.onward.tlsInsecure }, connectionTimeout: 30_000,
    })
    : undefined;
  const relayedDomain = compileDomainList(opts.onward?.domains ?? []);

  let patternsKey = '';
  let isReportAddress = compileAddressPatterns([]);
  const reportAddress = (address: string): boolean => {
    const patterns = opts.inbound().addresses;
    const key = patterns.join('\n');
    if (key !== patternsKey) {
      isReportAddress = compileAddressPatterns(patterns);
      patternsKey = key;
    }
    return isReportAddress(address);
  };

  const server = new SMTPServer({
    lmtp: opts.lmtp ?? false,
    name: opts.hostname,
    banner: 'tlsrpt-hub',
    // A reverse lookup per connection only slows report senders down; nothing here uses the name.
    disableReverseLookup: true,
    logger: false,
    size: maxMessageBytes,
    // SIZE is enforced while streaming too, not only when the client declares it in MAIL FROM.
    rejectOversized: true,
    maxClients: opts.maxClients ?? 100,
    socketTimeout: opts.socketTimeoutMs ?? 60_000,
    closeTimeout: 5_000,
    disabledCommands: opts.tls ? ['AUTH'] : ['AUTH', 'STARTTLS'],
    authOptional: true,
    ...(opts.tls ? { key: opts.tls.key, cert: opts.tls.cert } : {}),

    onConnect(session, cb) {
      const address = session.remoteAddress;
      const n = (perAddress.get(address) ?? 0) + 1;
      if (n > maxPerAddress) return cb(Object.assign(new Error(`4.7.0 too many connections from ${address}, try again later`), { responseCode: 421 }));
      perAddress.set(address, n);
      cb();
    },
    onClose(session) {
      const n = (perAddress.get(session.remoteAddress) ?? 1) - 1;
      if (n <= 0) perAddress.delete(session.remoteAddress);
      else perAddress.set(session.remoteAddress, n);
    },
    onRcptTo(address, session, cb) {
      if (session.envelope.rcptTo.length >= maxRecipients) {
        return cb(Object.assign(new Error(`4.5.3 too many recipients (at most ${maxRecipients} per message)`), { responseCode: 452 }));
      }
      if (reportAddress(address.address)) return cb();
      if (onward) {
        if (relayedDomain(address.address)) return cb();
        opts.log.info({ channel: protocol, peer: session.remoteAddress, rcpt: normaliseAddress(address.address).slice(0, 320) }, 'smtp: relaying denied (recipient domain not in smtp.onward.domains)');
        return cb(Object.assign(new Error(`5.7.1 <${address.address}>: relaying denied`), { responseCode: 550 }));
      }
      cb(Object.assign(new Error(`5.1.1 <${address.address}>: this server accepts only TLS report mail (inboundReportAddresses)`), { responseCode: 550 }));
    },
    onData(stream, session, cb) {
      readMessage(stream, maxMessageBytes).then(async (raw) => {
        if (stream.sizeExceeded || !raw) {
          opts.log.info({ channel: protocol, peer: session.remoteAddress, limit: maxMessageBytes }, 'smtp: message over the size limit refused');
          return cb(Object.assign(new Error(`5.3.4 message exceeds the maximum size of ${maxMessageBytes} bytes`), { responseCode: 552 }));
        }
        const replies = await handleMessage(raw, session);
        if (opts.lmtp) return cb(null, replies.map((r) => (r.ok ? r.message : smtpError(r))) as any);
        // SMTP has one reply per message: any temporary failure asks the sender to retry it all.
        const failure = replies.find((r) => !r.ok && r.code >= 400 && r.code < 500) ?? replies.find((r) => !r.ok);
        if (failure && !failure.ok) return cb(smtpError(failure));
        cb(null, replies[0]?.ok ? replies[0].message : 'OK');
      }).catch((e) => {
        opts.log.error({ channel: protocol, err: (e as Error).message }, 'smtp: message handling failed');
        cb(Object.assign(new Error('4.3.0 temporary failure, try again later'), { responseCode: 451 }));
      });
    },
  });
  server.on('error', (e) => opts.log.warn({ channel: protocol, err: e.message }, 'smtp listener error'));

  /** One reply per envelope recipient, in order. */
  async function handleMessage(raw: Buffer, session: SMTPServerSession): Promise<Reply[]> {
    const rcptTo = session.envelope.rcptTo.map((r) => r.address);
    const mailFrom = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
    const isReport = rcptTo.map((a) => reportAddress(a));
    const reportRcpts = rcptTo.filter((_, i) => isReport[i]);
    const { forwarding } = opts.inbound();
    const onwardRcpts = onward ? rcptTo.filter((_, i) => !isReport[i] || forwarding) : [];

    let reportReply: Reply | undefined;
    if (reportRcpts.length) {
      const outcomes = await opts.ingestor.ingest(raw, {
        channel: protocol, peer: session.remoteAddress, receivedAt: now(),
        envelope: { mailFrom, rcptTo: reportRcpts }, source: `${protocol} from ${session.remoteAddress}`,
      });
      reportReply = replyFor(outcomes, Boolean(onward && forwarding));
    }
    let onwardReply: Reply | undefined;
    if (onwardRcpts.length && onward) {
      try {
        await onward.sendMail({ envelope: { from: mailFrom, to: onwardRcpts }, raw: Buffer.concat([Buffer.from(receivedHeader(session, opts.hostname, protocol, new Date(now() * 1000))), raw]) });
        onwardReply = { ok: true, message: 'OK: relayed' };
      } catch (e) {
        const code = Number((e as { responseCode?: number }).responseCode);
        opts.log.warn({ channel: protocol, err: (e as Error).message }, 'smtp: onward relay failed');
        onwardReply = { ok: false, code: code >= 500 && code < 600 ? 554 : 451, message: `onward delivery failed: ${(e as Error).message}` };
      }
    }
    return rcptTo.map((a, i) => {
      if (isReport[i]) {
        // A report recipient that is also forwarded: the onward result decides only if it failed temporarily.
        if (forwarding && onwardReply && !onwardReply.ok && onwardReply.code < 500 && reportReply?.ok) return onwardReply;
        return reportReply!;
      }
      return onwardReply ?? { ok: false, code: 550, message: `<${normaliseAddress(a)}> is not a report address` };
    });
  }

  return {
    get port() { return port; },
    start: () => new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port, opts.host, () => {
        server.off('error', reject);
        port = (server.server.address() as { port: number }).port;
        opts.log.info({ channel: protocol, listen: `${opts.host}:${port}` }, `${protocol} listener started`);
        resolve();
      });
    }),
    stop: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      onward?.close();
    }),
  };
}

/**
 * SMTP reply for the outcomes of one message. Accepted (250) when a report was stored or was
 * already stored; a permanent refusal with the reason when it is not a report or is rejected
 * (the sender learns why from the bounce); 451 when storing failed, so the sender retries.
 */
function replyFor(outcomes: IngestOutcome[], forwardedAnyway: boolean): Reply {
  const stored = outcomes.filter((o) => o.status === 'imported' || o.status === 'duplicate');
  if (outcomes.some((o) => o.status === 'failed')) return { ok: false, code: 451, message: '4.3.0 the report could not be stored now, try again later' };
  if (stored.length) {
    const ids = stored.map((o) => `${o.status} ${o.reportId ?? ''}`.trim()).join(', ');
    return { ok: true, message: `2.6.0 OK: TLS report ${ids}` };
  }
  // Non-report mail that is also delivered onward is not bounced: it reached its mailbox.
  if (forwardedAnyway) return { ok: true, message: 'OK: delivered (no TLS report found)' };
  const first = outcomes[0];
  const reason = (first?.reason ?? 'not a TLS report').replace(/[\r\n]+/g, ' ').slice(0, 300);
  return { ok: false, code: first?.code === 'too-large' || first?.code === 'decompressed-too-large' ? 552 : 550, message: `5.6.0 ${first?.status ?? 'not-a-report'}: ${reason}` };
}

/**
 * The trace header we add to mail we pass on (RFC 5321 §4.4): the onward MTA and the
 * recipient see where the mail entered. Client-supplied names are reduced to safe characters.
 */
export function receivedHeader(session: Pick<SMTPServerSession, 'id' | 'remoteAddress' | 'hostNameAppearsAs' | 'transmissionType'>, hostname: string | undefined, protocol: string, at: Date): string {
  const helo = String(session.hostNameAppearsAs ?? 'unknown').replace(/[^A-Za-z0-9.:[\]_-]/g, '').slice(0, 255) || 'unknown';
  const by = (hostname ?? 'localhost').replace(/[^A-Za-z0-9.-]/g, '') || 'localhost';
  const withProto = session.transmissionType || protocol.toUpperCase();
  return `Received: from ${helo} ([${session.remoteAddress}])\r\n\tby ${by} (tlsrpt-hub) with ${withProto} id ${session.id};\r\n\t${at.toUTCString().replace('GMT', '+0000')}\r\n`;
}

function smtpError(r: { code: number; message: string }): Error {
  return Object.assign(new Error(r.message), { responseCode: r.code });
}

/** Reads the DATA stream; stops keeping bytes past the limit (smtp-server marks sizeExceeded and answers 552). */
function readMessage(stream: SMTPServerDataStream, max: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    let over = false;
    stream.on('data', (chunk: Buffer) => {
      if (over) return;
      total += chunk.length;
      if (total > max) {
        over = true;
        chunks.length = 0;
        return;
      }
      chunks.push(chunk);
    });
    stream.once('end', () => resolve(over ? undefined : Buffer.concat(chunks, total)));
    stream.once('error', reject);
  });
}
