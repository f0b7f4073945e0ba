/** @module common/log — the one pino logger of the process (JSON lines on stderr, level from TLSRPT_LOG_LEVEL). */
import { pino, type Logger } from 'pino';

export type { Logger };

export const log: Logger = pino(
  { level: process.env.TLSRPT_LOG_LEVEL ?? 'info', base: undefined },
  pino.destination({ dest: 2, sync: true }),
);

/** A logger that drops everything: for tests and for library use without logs. */
export const silentLog: Logger = pino({ level: 'silent' });
