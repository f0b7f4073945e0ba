/**
 * @module test/receiving/support/smtp-client — a raw SMTP/LMTP client over a socket, for tests
 * that need byte-exact conversations: every reply line, LMTP's one reply per recipient after
 * DATA, oversized and hostile data, and connections held open.
 */
import net from 'node:net';

export interface SmtpReply { code: number; lines: string[]; text: string }

export interface RawSmtp {
  greeting: SmtpReply;
  /** Sends one command line and reads one reply. */
  cmd(line: string): Promise<SmtpReply>;
  /** Sends DATA, the message (dot-stuffed) and the final dot; reads `replies` replies (LMTP: one per recipient). */
  data(message: Buffer, replies?: number): Promise<SmtpReply[]>;
  close(): void;
}

export async function rawSmtp(port: number): Promise<RawSmtp> {
  const sock = net.connect(port, '127.0.0.1');
  let buffer = '';
  const waiters: (() => void)[] = [];
  sock.setEncoding('latin1');
  sock.on('data', (d: string) => { buffer += d; waiters.splice(0).forEach((w) => w()); });
  let closed = false;
  sock.on('close', () => { closed = true; waiters.splice(0).forEach((w) => w()); });
  sock.on('error', () => {});

  const readReply = async (): Promise<SmtpReply> => {
    const lines: string[] = [];
    for (;;) {
      const nl = buffer.indexOf('\r\n');
      if (nl === -1) {
        if (closed) throw new Error(`connection closed; got ${JSON.stringify(lines)}`);
        await new Promise<void>((resolve) => waiters.push(resolve));
        continue;
      }
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 2);
      lines.push(line);
      if (/^\d{3} /.test(line) || /^\d{3}$/.test(line)) {
        return { code: Number(line.slice(0, 3)), lines, text: lines.join('\n') };
      }
    }
  };
  await new Promise<void>((resolve, reject) => { sock.once('connect', () => resolve()); sock.once('error', reject); });
  const greeting = await readReply();
  return {
    greeting,
    cmd: async (line) => { sock.write(`${line}\r\n`); return readReply(); },
    data: async (message, replies = 1) => {
      const go = await (async () => { sock.write('DATA\r\n'); return readReply(); })();
      if (go.code !== 354) return [go];
      const text = message.toString('latin1').replace(/\r?\n/g, '\r\n').replace(/^\./gm, '..');
      sock.write(text.endsWith('\r\n') ? text : `${text}\r\n`, 'latin1');
      sock.write('.\r\n');
      const out: SmtpReply[] = [];
      for (let i = 0; i < replies; i++) out.push(await readReply());
      return out;
    },
    close: () => sock.destroy(),
  };
}
