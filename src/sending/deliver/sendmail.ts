/**
 * @module sending/deliver/sendmail — report mail handed to the local MTA's sendmail command
 * (`relay: {"sendmail": "/usr/sbin/sendmail -i -t"}`), as sys4's tlsrpt-reporter does: the MTA
 * queues, routes, retries and may DKIM-sign (`delivery.dkim: "mta"`). The command line is split
 * on blanks and run without a shell; the envelope sender goes in with `-f`, the recipient as an
 * argument unless `-t` makes sendmail read it from the To header.
 */
import { spawn } from 'node:child_process';
import { headerAddress } from '../report/headers.js';
import type { AttemptOutcome } from './retry.js';
import type { ReportMailer } from './mail.js';

/** sysexits(3) codes that will not change on a retry (bad address, unknown user or host). */
const PERMANENT_EXITS = new Set([64, 65, 67, 68, 76, 77, 78]);

/**
 * @example
 * const mailer = createSendmailMailer('/usr/sbin/sendmail -i -t');
 * await mailer.send({ from: 'tlsrpt@example.com', to: 'tlsrpt@example.org' }, rawMessage);
 */
export function createSendmailMailer(commandLine: string, opts: { timeoutMs?: number } = {}): ReportMailer {
  const [command, ...args] = commandLine.trim().split(/\s+/);
  if (!command) throw new Error('relay.sendmail is empty: expected a command line such as "/usr/sbin/sendmail -i -t"');
  const readsHeaders = args.includes('-t');
  const timeoutMs = opts.timeoutMs ?? 60_000;
  return {
    send(envelope, raw) {
      const from = headerAddress('envelope sender', envelope.from);
      const to = headerAddress('envelope recipient', envelope.to);
      const argv = [...args, '-f', from, ...(readsHeaders ? [] : ['--', to])];
      return new Promise<AttemptOutcome>((resolve) => {
        let stderr = '';
        const child = spawn(command, argv, { stdio: ['pipe', 'ignore', 'pipe'] });
        const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
        child.stderr.on('data', (d: Buffer) => { if (stderr.length < 2000) stderr += d.toString('utf8'); });
        child.stdin.on('error', () => { /* the exit status says what went wrong */ });
        child.on('error', (e) => {
          clearTimeout(timer);
          resolve({ kind: 'temporary', error: `cannot run relay.sendmail ${command}: ${e.message}` });
        });
        child.on('close', (code, signal) => {
          clearTimeout(timer);
          const said = stderr.replace(/\s+/g, ' ').trim().slice(0, 300);
          if (code === 0) resolve({ kind: 'sent', detail: `handed to ${command}` });
          else if (signal) resolve({ kind: 'temporary', error: `${command} killed by ${signal}${signal === 'SIGKILL' ? ` after ${timeoutMs} ms` : ''}` });
          else resolve({ kind: PERMANENT_EXITS.has(code ?? -1) ? 'permanent' : 'temporary', error: `${command} exited ${code}${said ? `: ${said}` : ''}` });
        });
        child.stdin.end(raw);
      });
    },
    close() {},
  };
}
