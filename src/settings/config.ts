/**
 * @module settings/config — the service's own configuration: `tlsrpt.json` sections
 * (store, http, collector, smtp, imap, relay, dkim, dns, delivery) plus the raw settings
 * singletons, with environment overrides (`TLSRPT_*`). Validated with zod at load.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

const hostPort = z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[^:\s]+):\d{1,5}$/, 'expected HOST:PORT, e.g. 127.0.0.1:8080');

export const StoreConfig = z.union([
  z.object({ sqlite: z.string().min(1) }).strict(),
  z.object({ postgres: z.string().min(1) }).strict(),
]);

/**
 * `http` keys of issue 10 (Trust): what one stranger may cost the public report endpoint
 * (RFC 8460 §5.4 is unauthenticated) and the HTTP server's time and connection limits.
 */
export const HTTP_TRUST_DEFAULTS = {
  /** POST /tlsrpt body as sent (gzip or JSON), bytes. */
  reportMaxBodyBytes: 1048576,
  /** POST /tlsrpt report after decompression, bytes (also capped by ReportSettings.inboundReportMaxSize). */
  reportMaxInflatedBytes: 10485760,
  /** POST /tlsrpt body bytes per client (an IPv6 client is its /64) and minute. */
  reportBytesPerMinute: 4194304,
  /** Whole request (headers and body), ms. */
  requestTimeoutMs: 30000,
  /** Request headers, ms. */
  headersTimeoutMs: 10000,
  /** Open connections in total, and per client address. */
  maxConnections: 1000,
  maxConnectionsPerClient: 50,
} as const;
export const HttpTrustKeys = z.object({
  reportMaxBodyBytes: z.number().int().positive().default(HTTP_TRUST_DEFAULTS.reportMaxBodyBytes),
  reportMaxInflatedBytes: z.number().int().positive().default(HTTP_TRUST_DEFAULTS.reportMaxInflatedBytes),
  reportBytesPerMinute: z.number().int().positive().default(HTTP_TRUST_DEFAULTS.reportBytesPerMinute),
  requestTimeoutMs: z.number().int().positive().default(HTTP_TRUST_DEFAULTS.requestTimeoutMs),
  headersTimeoutMs: z.number().int().positive().default(HTTP_TRUST_DEFAULTS.headersTimeoutMs),
  maxConnections: z.number().int().positive().default(HTTP_TRUST_DEFAULTS.maxConnections),
  maxConnectionsPerClient: z.number().int().positive().default(HTTP_TRUST_DEFAULTS.maxConnectionsPerClient),
});

/**
 * `smtp.onward` (issue 10): the route mail to non-report recipients is relayed on. `domains`
 * is required: without it the listener would relay for anyone (an open relay into the local MTA).
 */
export const SmtpOnwardConfig = z.object({
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535).default(25),
  secure: z.boolean().default(false),
  tlsInsecure: z.boolean().default(false),
  domains: z.array(z.string().min(1)).min(1, 'list the recipient domains mail may be relayed to (e.g. ["example.org"]); every other recipient gets 550 5.7.1 relaying denied'),
}).strict();

export const ServiceConfig = z.object({
  store: StoreConfig.default({ sqlite: './data/tlsrpt.db' }),
  http: z.object({
    listen: hostPort.default('127.0.0.1:8080'),
    token: z.string().min(16, 'the admin token must have at least 16 characters').optional(),
    reportPath: z.string().startsWith('/').default('/tlsrpt'),
    tls: z.object({ cert: z.string(), key: z.string() }).strict().optional(),
    maxBodyBytes: z.number().int().positive().default(26214400),
    reportRatePerMinute: z.number().int().positive().default(60),
    trustProxy: z.boolean().default(false),
    ...HttpTrustKeys.shape,
  }).passthrough().default({ listen: '127.0.0.1:8080', reportPath: '/tlsrpt', maxBodyBytes: 26214400, reportRatePerMinute: 60, trustProxy: false, ...HTTP_TRUST_DEFAULTS }),
  collector: z.object({
    socket: z.string().optional(),
    mode: z.string().regex(/^0?[0-7]{3}$/).default('0660'),
    owner: z.union([z.string(), z.number()]).optional(),
    group: z.union([z.string(), z.number()]).optional(),
    flushMs: z.number().int().positive().default(1000),
    flushEvents: z.number().int().positive().default(200000),
    dumpDir: z.string().optional(),
  }).passthrough().optional(),
  smtp: z.object({
    listen: hostPort,
    lmtp: z.boolean().default(false),
    onward: SmtpOnwardConfig.optional(),
  }).passthrough().optional(),
  imap: z.array(z.object({
    host: z.string(), port: z.number().int().default(993), secure: z.boolean().default(true),
    user: z.string(), password: z.string(), mailbox: z.string().default('INBOX'),
    allowPlaintextAuth: z.boolean().default(false),
  }).passthrough()).optional(),
  relay: z.object({
    host: z.string(), port: z.number().int().default(587), secure: z.boolean().default(false),
    user: z.string().optional(), password: z.string().optional(),
    // Issue 10: with credentials, TLS is required unless allowPlaintextAuth.
    requireTLS: z.boolean().optional(),
    allowPlaintextAuth: z.boolean().default(false),
  }).passthrough().optional(),
  dkim: z.array(z.object({
    domain: z.string(), selector: z.string(), privateKeyFile: z.string(),
  }).passthrough()).optional(),
  dns: z.object({ servers: z.array(z.string()).optional() }).passthrough().optional(),
  delivery: z.object({
    spreadSeconds: z.number().int().nonnegative().default(3600),
    allowPrivateTargets: z.boolean().default(false),
    extraCaFile: z.string().optional(),
  }).passthrough().optional(),
  TlsReportSettings: z.record(z.string(), z.unknown()).optional(),
  ReportSettings: z.record(z.string(), z.unknown()).optional(),
  SystemSettings: z.record(z.string(), z.unknown()).optional(),
}).passthrough();

export type ServiceConfig = z.infer<typeof ServiceConfig>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** The config file a command uses: `--config FILE`, else `./tlsrpt.json` when present, else none. */
export function resolveConfigPath(explicit?: string): string | undefined {
  if (explicit) return path.resolve(explicit);
  const local = path.resolve('tlsrpt.json');
  return existsSync(local) ? local : undefined;
}

/**
 * Loads and validates the configuration. Relative file paths in the file stay relative to
 * the working directory (as operators expect from `./data/...`).
 * Environment overrides: TLSRPT_STORE (a path, or a postgres:// URL), TLSRPT_HTTP_LISTEN,
 * TLSRPT_HTTP_TOKEN, TLSRPT_COLLECTOR_SOCKET, TLSRPT_SMTP_LISTEN.
 */
export function loadConfig(file?: string, env: NodeJS.ProcessEnv = process.env): ServiceConfig {
  let raw: Record<string, unknown> = {};
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new ConfigError(`cannot read config file ${file}: ${(e as Error).message}`);
    }
    try {
      raw = JSON.parse(text);
    } catch (e) {
      throw new ConfigError(`config file ${file} is not valid JSON: ${(e as Error).message}`);
    }
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError(`config file ${file} must hold a JSON object`);
  }
  raw = applyEnv(raw, env);
  const unknown = unknownSections(raw);
  if (unknown.length) throw new ConfigError(`invalid configuration${file ? ` in ${file}` : ''}: ${unknown.map((u) => `${u.field}: ${u.message}`).join('; ')}`);
  const parsed = ServiceConfig.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new ConfigError(`invalid configuration${file ? ` in ${file}` : ''}: ${issues}`);
  }
  return parsed.data;
}

/** Every top-level section a config file may hold (the areas read `receiving` and `retention` themselves). */
export const CONFIG_SECTIONS = [
  'store', 'http', 'collector', 'smtp', 'imap', 'relay', 'dkim', 'dns', 'delivery', 'receiving', 'retention',
  'TlsReportSettings', 'ReportSettings', 'SystemSettings',
] as const;

/**
 * A misspelt section (`colector`) would otherwise be ignored without a word and its defaults
 * used. Keys starting with `$` or `_` are left alone: JSON has no comments.
 */
export function unknownSections(raw: Record<string, unknown>): { field: string; message: string }[] {
  const known = new Set<string>(CONFIG_SECTIONS);
  return Object.keys(raw).filter((k) => !known.has(k) && !/^[$_]/.test(k)).map((k) => {
    const near = CONFIG_SECTIONS.find((s) => editDistance(s.toLowerCase(), k.toLowerCase()) <= 2);
    return { field: k, message: `unknown section${near ? ` (did you mean "${near}"?)` : ''}; the sections are ${CONFIG_SECTIONS.join(', ')}` };
  });
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}

function applyEnv(raw: Record<string, unknown>, env: NodeJS.ProcessEnv): Record<string, unknown> {
  const out: Record<string, any> = { ...raw };
  const section = (name: string): Record<string, unknown> => (out[name] = { ...(out[name] as object | undefined) });
  if (env.TLSRPT_STORE) {
    out.store = /^postgres(ql)?:\/\//.test(env.TLSRPT_STORE) ? { postgres: env.TLSRPT_STORE } : { sqlite: env.TLSRPT_STORE };
  }
  if (env.TLSRPT_HTTP_LISTEN) section('http').listen = env.TLSRPT_HTTP_LISTEN;
  if (env.TLSRPT_HTTP_TOKEN) section('http').token = env.TLSRPT_HTTP_TOKEN;
  if (env.TLSRPT_COLLECTOR_SOCKET) section('collector').socket = env.TLSRPT_COLLECTOR_SOCKET;
  if (env.TLSRPT_SMTP_LISTEN) section('smtp').listen = env.TLSRPT_SMTP_LISTEN;
  return out;
}

/** Splits `HOST:PORT` (IPv6 in brackets) for `listen`. */
export function parseHostPort(value: string): { host: string; port: number } {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(value);
  if (!m) throw new ConfigError(`expected HOST:PORT, got ${JSON.stringify(value)}`);
  return { host: m[1], port: Number(m[2]) };
}
