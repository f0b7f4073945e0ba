/**
 * @module test/support/smtp-sink — a real SMTP relay on 127.0.0.1 (smtp-server) that keeps every
 * message it accepts, can refuse recipients with a chosen reply, and can be stopped and started
 * again on the same port (a relay that is down for a while).
 */
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { testCa } from './https-server.js';

export interface SunkMail { from: string; to: string[]; raw: Buffer; authUser?: string }

export interface SmtpSink {
  port: number;
  received: SunkMail[];
  /** Sessions that upgraded with STARTTLS. */
  tlsSessions: number;
  /** Reply for RCPT TO (e.g. `{ code: 450, message: 'try later' }`), or undefined to accept. */
  setRcptReply(fn?: (address: string) => { code: number; message: string } | undefined): void;
  /** Stops listening (connections are refused) until `start()`. */
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

/**
 * STARTTLS is offered only with `starttls: true`, with the test CA's certificate for localhost /
 * 127.0.0.1 (smtp-server's bundled certificate has expired). `keep: false` drops message bodies (benchmarks).
 */
export async function startSmtpSink(opts: { port?: number; auth?: { user: string; password: string }; starttls?: boolean; keep?: boolean } = {}): Promise<SmtpSink> {
  const received: SunkMail[] = [];
  let tlsSessions = 0;
  let rcptReply: ((a: string) => { code: number; message: string } | undefined) | undefined;
  let server: SMTPServer | undefined;
  let port = opts.port ?? 0;
  const make = () => {
    const o: SMTPServerOptions = {
      secure: false,
      logger: false,
      ...(opts.starttls ? { key: testCa().keyPem, cert: testCa().certPem } : { hideSTARTTLS: true }),
      closeTimeout: 500,
      disabledCommands: [...(opts.auth ? [] : ['AUTH']), ...(opts.starttls ? [] : ['STARTTLS'])],
      authOptional: !opts.auth,
      allowInsecureAuth: true,
      size: 50 * 1024 * 1024,
      onAuth(auth, _session, cb) {
        if (opts.auth && auth.username === opts.auth.user && auth.password === opts.auth.password) cb(null, { user: auth.username });
        else cb(Object.assign(new Error('Invalid credentials'), { responseCode: 535 }));
      },
      onRcptTo(address, _session, cb) {
        const r = rcptReply?.(address.address);
        if (r) cb(Object.assign(new Error(r.message), { responseCode: r.code }));
        else cb();
      },
      onSecure(_socket, _session, cb) {
        tlsSessions++;
        cb();
      },
      onData(stream, session, cb) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          received.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            raw: opts.keep === false ? Buffer.alloc(0) : Buffer.concat(chunks),
            authUser: session.user as string | undefined,
          });
          cb();
        });
      },
    };
    return new SMTPServer(o);
  };
  const start = async () => {
    server = make();
    await new Promise<void>((resolve, reject) => {
      server!.once('error', reject);
      server!.listen(port, '127.0.0.1', () => resolve());
    });
    port = (server.server.address() as { port: number }).port;
  };
  const stop = async () => {
    if (!server) return;
    const s = server;
    server = undefined;
    await new Promise<void>((resolve) => s.close(() => resolve()));
  };
  await start();
  return {
    get port() { return port; },
    received,
    get tlsSessions() { return tlsSessions; },
    setRcptReply: (fn) => { rcptReply = fn; },
    stop,
    start,
    close: stop,
  };
}
