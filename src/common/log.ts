/**
 * @module common/log — the one logger of the process, on stderr. Format (`log.format` in the
 * config, or TLSRPT_LOG_FORMAT): `pretty` is one line per event with ISO time and level name,
 * for a person at a terminal; `json` is one JSON object per line (pino's shape: numeric `level`,
 * `time` in epoch ms, `msg`), for the journal and log shippers; `auto` (default) is pretty when
 * stderr is a terminal. Level from `log.level` or TLSRPT_LOG_LEVEL (default info).
 * Own code rather than pino: an idle collector is measured in MiB (issue 12), and this is all
 * the service uses of a logger. Any pino logger fits the `Logger` interface (tests pass one).
 */
import { formatWithOptions } from 'node:util';

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
export type LogFormat = 'auto' | 'pretty' | 'json';

export interface LogFn {
  (msg: string): void;
  (obj: object, msg?: string): void;
}

export interface Logger {
  trace: LogFn;
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  fatal: LogFn;
  /** `options.level`: this child's own threshold (e.g. a quieter child for a bulk import). */
  child(bindings: Record<string, unknown>, options?: { level?: string }): Logger;
  readonly level: string;
}

/** pino's numbers, so JSON lines read the same as before. */
const LEVELS: Record<LogLevel, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity };
const NAMES = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;

interface Sink {
  threshold: number;
  pretty: boolean;
  write(line: string): void;
}

/** `err` and any Error become { type, message, stack } (as pino's serializer), BigInt a number string. */
function replacer(this: unknown, _key: string, value: unknown): unknown {
  if (value instanceof Error) {
    const out: Record<string, unknown> = { type: value.name, message: value.message, stack: value.stack };
    for (const [k, v] of Object.entries(value)) out[k] = v;
    if (value.cause !== undefined) out.cause = value.cause;
    return out;
  }
  return typeof value === 'bigint' ? value.toString() : value;
}

function jsonLine(record: Record<string, unknown>): string {
  try {
    return JSON.stringify(record, replacer);
  } catch {
    // A circular object must not lose the event: keep the message, describe the rest.
    return JSON.stringify({ level: record.level, time: record.time, msg: record.msg, unserialisable: formatWithOptions({ depth: 2 }, '%o', record).slice(0, 2000) });
  }
}

function prettyLine(level: number, time: number, fields: Record<string, unknown>, msg: string | undefined): string {
  const name = (NAMES.find((n) => LEVELS[n] === level) ?? String(level)).toUpperCase().padEnd(5);
  let stack = '';
  const rest = Object.entries(fields).map(([k, v]) => {
    if (v instanceof Error) {
      if (v.stack) stack = `\n${v.stack.split('\n').slice(1).join('\n')}`;
      return `${k}=${JSON.stringify(v.message)}`;
    }
    if (typeof v === 'string' && /^[^\s"=]+$/.test(v)) return `${k}=${v}`;
    let text: string | undefined;
    try {
      text = JSON.stringify(v, replacer);
    } catch {
      text = undefined;
    }
    return `${k}=${text ?? formatWithOptions({ depth: 2, breakLength: Infinity }, '%o', v)}`;
  });
  return `${new Date(time).toISOString()} ${name} ${msg ?? ''}${rest.length ? ` ${rest.join(' ')}` : ''}${stack}`;
}

function makeLogger(sink: Sink, bindings: Record<string, unknown>): Logger {
  const at = (level: number): LogFn => ((a: object | string, b?: string) => {
    if (level < sink.threshold) return;
    const time = Date.now();
    const msg = typeof a === 'string' ? a : b;
    const fields = typeof a === 'string' ? bindings : { ...bindings, ...(a as object) };
    if (sink.pretty) sink.write(`${prettyLine(level, time, fields, msg)}\n`);
    else sink.write(`${jsonLine({ level, time, ...fields, ...(msg !== undefined ? { msg } : {}) })}\n`);
  }) as LogFn;
  return {
    trace: at(10), debug: at(20), info: at(30), warn: at(40), error: at(50), fatal: at(60),
    child: (more, options) => makeLogger(
      options?.level ? Object.create(sink, { threshold: { value: parseLevel(options.level), writable: true } }) as Sink : sink,
      { ...bindings, ...more },
    ),
    get level() {
      return sink.threshold === Infinity ? 'silent' : NAMES.find((n) => LEVELS[n] === sink.threshold) ?? 'info';
    },
  };
}

function parseLevel(value: string | undefined): number {
  return LEVELS[(value ?? 'info') as LogLevel] ?? LEVELS.info;
}

function isPretty(format: LogFormat, isTTY: boolean): boolean {
  return format === 'pretty' || (format === 'auto' && isTTY);
}

const processSink: Sink = {
  threshold: parseLevel(process.env.TLSRPT_LOG_LEVEL),
  pretty: isPretty((process.env.TLSRPT_LOG_FORMAT as LogFormat | undefined) || 'auto', Boolean(process.stderr.isTTY)),
  // Synchronous like pino.destination({ sync: true }): a line is out before a crash or exit.
  write: (line) => process.stderr.write(line),
};

export const log: Logger = makeLogger(processSink, {});

/**
 * Applies the config's `log` section to the process logger (serve calls it once the config is
 * read); TLSRPT_LOG_LEVEL / TLSRPT_LOG_FORMAT win over the file.
 */
export function configureLog(options: { level?: LogLevel; format?: LogFormat } = {}, env: NodeJS.ProcessEnv = process.env): void {
  processSink.threshold = parseLevel(env.TLSRPT_LOG_LEVEL || options.level);
  processSink.pretty = isPretty((env.TLSRPT_LOG_FORMAT as LogFormat | undefined) || options.format || 'auto', Boolean(process.stderr.isTTY));
}

/**
 * A logger writing to `write` (tests, tools).
 * @example const lines: string[] = []; const l = createLogger({ format: 'json', write: (s) => lines.push(s) });
 */
export function createLogger(options: { level?: LogLevel; format?: 'pretty' | 'json'; write: (line: string) => void }): Logger {
  return makeLogger({ threshold: parseLevel(options.level), pretty: options.format === 'pretty', write: options.write }, {});
}

/** A logger that drops everything: for tests and for library use without logs. */
export const silentLog: Logger = createLogger({ level: 'silent', write: () => {} });
