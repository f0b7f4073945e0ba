/** @module test/sending/delivery/log-capture — a real pino logger whose JSON lines the test can read. */
import { pino, type Logger } from 'pino';

export function captureLog(): { log: Logger; lines: Record<string, unknown>[]; find(msg: string | RegExp): Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: 'debug', base: undefined }, { write: (s: string) => { lines.push(JSON.parse(s)); } });
  return {
    log, lines,
    find: (msg) => lines.filter((l) => (typeof msg === 'string' ? l.msg === msg : msg.test(String(l.msg)))),
  };
}
