/**
 * @module check/smtp-probe — one SMTP session to an MX host as a TLS-requiring sender opens it:
 * banner, EHLO, STARTTLS when offered (RFC 3207), the TLS handshake with SNI the MX name, the
 * certificate judged, QUIT. Answers what happened instead of throwing for a peer's failure.
 */
import net from 'node:net';
import tls from 'node:tls';
import { judgeCertificate, type CertificateVerdict } from './certificate.js';
import { trustedCas } from './https-get.js';

export interface SmtpProbeResult {
  /** Connected and read a 220 banner. */
  connected: boolean;
  banner?: string;
  starttlsOffered: boolean;
  /** TLS handshake completed after STARTTLS. */
  tls: boolean;
  protocol?: string;
  certificate?: CertificateVerdict;
  error?: string;
}

export interface SmtpProbeOptions {
  host: string;
  address: string;
  port: number;
  ehloName: string;
  timeoutMs: number;
  ca?: string[];
  now: number;
}

/** Reads SMTP replies (multi-line `250-…` until `250 …`) from a socket. */
function replyReader(socket: net.Socket) {
  let buf = '';
  const waiting: ((r: { code: number; lines: string[] }) => void)[] = [];
  const ready: { code: number; lines: string[] }[] = [];
  let lines: string[] = [];
  socket.on('data', (chunk: Buffer) => {
    buf += chunk.toString('latin1');
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i).replace(/\r$/, '');
      buf = buf.slice(i + 1);
      lines.push(line.slice(4));
      if (line[3] !== '-') {
        const reply = { code: Number(line.slice(0, 3)) || 0, lines };
        lines = [];
        const w = waiting.shift();
        if (w) w(reply); else ready.push(reply);
      }
    }
  });
  return () => new Promise<{ code: number; lines: string[] }>((resolve) => {
    const r = ready.shift();
    if (r) resolve(r); else waiting.push(resolve);
  });
}

export async function probeSmtp(o: SmtpProbeOptions): Promise<SmtpProbeResult> {
  const result: SmtpProbeResult = { connected: false, starttlsOffered: false, tls: false };
  const socket = net.connect({ host: o.address, port: o.port });
  let secure: tls.TLSSocket | undefined;
  const deadline = new Promise<never>((_, reject) => {
    const t = setTimeout(() => reject(new Error(`no complete answer within ${o.timeoutMs} ms`)), o.timeoutMs);
    socket.once('close', () => clearTimeout(t));
  });
  const closed = new Promise<never>((_, reject) => {
    socket.once('error', reject);
    socket.once('close', () => reject(new Error('the server closed the connection')));
  });
  const step = <T>(p: Promise<T>) => Promise.race([p, deadline, closed]);
  deadline.catch(() => {});
  closed.catch(() => {});
  try {
    await step(new Promise<void>((resolve) => socket.once('connect', () => resolve())));
    const next = replyReader(socket);
    const banner = await step(next());
    result.banner = banner.lines.join(' ');
    if (banner.code !== 220) throw new Error(`banner ${banner.code} ${result.banner}`);
    result.connected = true;
    socket.write(`EHLO ${o.ehloName}\r\n`);
    const ehlo = await step(next());
    if (ehlo.code !== 250) throw new Error(`EHLO answered ${ehlo.code} ${ehlo.lines.join(' ')}`);
    result.starttlsOffered = ehlo.lines.slice(1).some((l) => /^STARTTLS\b/i.test(l));
    if (!result.starttlsOffered) {
      socket.write('QUIT\r\n');
      return result;
    }
    socket.write('STARTTLS\r\n');
    const go = await step(next());
    if (go.code !== 220) throw new Error(`STARTTLS answered ${go.code} ${go.lines.join(' ')}`);
    socket.removeAllListeners('data');
    secure = tls.connect({ socket, servername: o.host, ca: trustedCas(o.ca), rejectUnauthorized: false });
    await step(new Promise<void>((resolve, reject) => {
      secure!.once('secureConnect', () => resolve());
      secure!.once('error', reject);
    }));
    result.tls = true;
    result.protocol = secure.getProtocol() ?? undefined;
    result.certificate = judgeCertificate(secure, o.host, o.now);
    secure.write('QUIT\r\n');
  } catch (e) {
    result.error = (e as Error).message;
  } finally {
    secure?.destroy();
    socket.destroy();
  }
  return result;
}
