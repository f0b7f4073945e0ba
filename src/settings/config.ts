/**
 * @module settings/config — the service's configuration (`tlsrpt.json`): one strict zod schema per
 * section (`./sections/`), composed here into `ServiceConfig`; where the file is found; how it is
 * read (JSON errors with line and column, `_comment` keys ignored, environment overrides,
 * relative paths resolved against the file's folder); and errors in words — an unknown key names
 * the nearest real one, a missing key says what it is for.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { SECTIONS, stalwart015Message, type SectionName } from './sections/index.js';
import { describeIssues, nearest, stripComments } from './config-errors.js';
import { JsonSyntaxError, parseJsonText } from './json-text.js';

type Shape = { [K in SectionName]: (typeof SECTIONS)[K]['schema'] };
const shape = Object.fromEntries(Object.entries(SECTIONS).map(([k, s]) => [k, s.schema])) as Shape;

/** The whole config file: every section optional, every key in every section checked. */
export const ServiceConfig = z.strictObject(shape);
export type ServiceConfig = z.infer<typeof ServiceConfig>;

export const CONFIG_SECTIONS = Object.keys(SECTIONS) as SectionName[];

export class ConfigError extends Error {
  override name = 'ConfigError';
  readonly code = 'invalid-config' as const;
}

/** One problem of a config document: where (`http.tokn`) and what, in words. */
export interface ConfigIssue {
  field: string;
  message: string;
}

/** Where `/etc` keeps the system-wide config (the last place looked at). */
export const SYSTEM_CONFIG_PATH = '/etc/tlsrpt/tlsrpt.json';

export type ConfigSource = '--config' | 'TLSRPT_CONFIG' | './tlsrpt.json' | typeof SYSTEM_CONFIG_PATH | 'defaults';

export interface ConfigLookup {
  /** The file in use (absolute), or undefined for the built-in defaults. */
  file?: string;
  /** How it was found. */
  source: ConfigSource;
}

/**
 * The config file a command uses: `--config FILE`, else `$TLSRPT_CONFIG`, else `./tlsrpt.json`,
 * else `/etc/tlsrpt/tlsrpt.json`, else none (built-in defaults). A file named explicitly (option
 * or variable) must exist.
 */
export function lookupConfig(explicit?: string, opts: { env?: NodeJS.ProcessEnv; cwd?: string; systemPath?: string } = {}): ConfigLookup {
  const env = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();
  const must = (file: string, source: ConfigSource): ConfigLookup => {
    const abs = path.resolve(cwd, file);
    if (!existsSync(abs)) throw new ConfigError(`config file ${abs} (from ${source}) does not exist`);
    return { file: abs, source };
  };
  if (explicit) return must(explicit, '--config');
  if (env.TLSRPT_CONFIG) return must(env.TLSRPT_CONFIG, 'TLSRPT_CONFIG');
  const local = path.resolve(cwd, 'tlsrpt.json');
  if (existsSync(local)) return { file: local, source: './tlsrpt.json' };
  const system = opts.systemPath ?? SYSTEM_CONFIG_PATH;
  if (existsSync(system)) return { file: system, source: SYSTEM_CONFIG_PATH };
  return { source: 'defaults' };
}

/** @deprecated use lookupConfig; kept for callers that only want the path. */
export function resolveConfigPath(explicit?: string): string | undefined {
  return lookupConfig(explicit).file;
}

/** Reads a config file: its text as JSON (line and column on a syntax error), a JSON object. */
export function readConfigDocument(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`cannot read config file ${file}: ${(e as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = parseJsonText(text);
  } catch (e) {
    if (e instanceof JsonSyntaxError) throw new ConfigError(`config file ${file} is not valid JSON: ${e.message}`);
    throw e;
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new ConfigError(`config file ${file} must hold a JSON object ({ … })`);
  return doc as Record<string, unknown>;
}

/**
 * Every problem of a config document's sections, in words (empty when valid). The settings
 * singletons' fields are checked by `validate.ts`, expression by expression.
 */
export function configIssues(doc: Record<string, unknown>): ConfigIssue[] {
  const clean = stripComments(doc) as Record<string, unknown>;
  const issues: ConfigIssue[] = [];
  for (const key of Object.keys(clean)) {
    if (key in SECTIONS) continue;
    const stalwart = stalwart015Message(key, clean[key]);
    if (stalwart) {
      issues.push({ field: key, message: stalwart });
    } else {
      const near = nearest(key, CONFIG_SECTIONS);
      issues.push({ field: key, message: `unknown section${near ? ` (did you mean "${near}"?)` : ''}; the sections are ${CONFIG_SECTIONS.join(', ')}` });
    }
    delete clean[key];
  }
  const parsed = ServiceConfig.safeParse(clean);
  if (!parsed.success) issues.push(...describeIssues(parsed.error.issues, clean, ServiceConfig).filter((i) => !/^(TlsReportSettings|ReportSettings|SystemSettings)\b/.test(i.field)));
  return issues;
}

/** @deprecated the same as configIssues' unknown-section part; kept for older callers. */
export function unknownSections(raw: Record<string, unknown>): ConfigIssue[] {
  return configIssues(Object.fromEntries(Object.entries(raw).filter(([k]) => !(k in SECTIONS))));
}

export interface LoadedConfig {
  config: ServiceConfig;
  /** The file read (absolute), when there was one. */
  file?: string;
  source: ConfigSource;
}

/**
 * Loads, checks and completes the configuration: relative paths in the file resolve against the
 * file's folder (a service started from any directory finds the same files); environment
 * overrides (TLSRPT_STORE — a path or a postgres:// URL —, TLSRPT_HTTP_LISTEN, TLSRPT_HTTP_TOKEN,
 * TLSRPT_COLLECTOR_SOCKET, TLSRPT_SMTP_LISTEN) win over the file, their paths relative to the
 * working directory.
 */
export function loadConfig(file?: string, env: NodeJS.ProcessEnv = process.env): ServiceConfig {
  let raw: Record<string, unknown> = file ? readConfigDocument(file) : {};
  const issues = configIssues(raw);
  if (issues.length) throw new ConfigError(`invalid configuration${file ? ` in ${file}` : ''}:\n  ${issues.map((i) => `${i.field}: ${i.message}`).join('\n  ')}`);
  raw = stripComments(raw) as Record<string, unknown>;
  const base = file ? path.dirname(path.resolve(file)) : process.cwd();
  const fromFile = resolvePaths(ServiceConfig.parse(raw), base);
  const withEnv = applyEnv(fromFile, env);
  const parsed = ServiceConfig.safeParse(withEnv);
  if (!parsed.success) {
    const envIssues = describeIssues(parsed.error.issues, withEnv, ServiceConfig);
    throw new ConfigError(`invalid configuration from the environment (TLSRPT_*):\n  ${envIssues.map((i) => `${i.field}: ${i.message}`).join('\n  ')}`);
  }
  return parsed.data;
}

/** The config a command uses, found as `lookupConfig` says. */
export function loadConfigFrom(explicit?: string, env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  const found = lookupConfig(explicit, { env });
  return { config: loadConfig(found.file, env), ...found };
}

const isRelativeFile = (p: string) => !path.isAbsolute(p) && p !== ':memory:' && !p.startsWith('file:');

/** Makes every file path the sections declare absolute, against `base`. */
export function resolvePaths(config: ServiceConfig, base: string): ServiceConfig {
  const out = structuredClone(config) as Record<string, unknown>;
  for (const [name, spec] of Object.entries(SECTIONS) as [SectionName, { paths?: readonly string[] }][]) {
    for (const p of spec.paths ?? []) {
      visitPath(out, [name, ...p.split('.')], (v) => (typeof v === 'string' && isRelativeFile(v) ? path.resolve(base, v) : v));
    }
  }
  return out as ServiceConfig;
}

/** Every file path the sections declare, with its dotted field, for checks (`settings validate`). */
export function declaredPaths(config: ServiceConfig): { field: string; file: string; created: boolean }[] {
  const out: { field: string; file: string; created: boolean }[] = [];
  for (const [name, spec] of Object.entries(SECTIONS) as [SectionName, { paths?: readonly string[]; createdPaths?: readonly string[] }][]) {
    for (const p of spec.paths ?? []) {
      visitPath(config as Record<string, unknown>, [name, ...p.split('.')], (v, field) => {
        if (typeof v === 'string' && v !== ':memory:' && !v.startsWith('file:')) out.push({ field, file: v, created: (spec.createdPaths ?? []).includes(p) });
        return v;
      });
    }
  }
  return out;
}

/** Calls `fn` on the value at a path (`[]` = every array element) and stores what it returns. */
function visitPath(obj: Record<string, unknown>, parts: string[], fn: (v: unknown, field: string) => unknown, trail = ''): void {
  const [head, ...rest] = parts;
  if (head === undefined) return;
  if (head === '[]') {
    if (!Array.isArray(obj)) return;
    (obj as unknown[]).forEach((el, i) => {
      if (rest.length === 0) (obj as unknown[])[i] = fn(el, `${trail}[${i}]`);
      else if (el && typeof el === 'object') visitPath(el as Record<string, unknown>, rest, fn, `${trail}[${i}]`);
    });
    return;
  }
  if (!obj || typeof obj !== 'object' || !(head in obj)) return;
  const field = trail ? `${trail}.${head}` : head;
  if (rest.length === 0) {
    if (obj[head] !== undefined) obj[head] = fn(obj[head], field);
  } else {
    visitPath(obj[head] as Record<string, unknown>, rest, fn, field);
  }
}

function applyEnv(config: ServiceConfig, env: NodeJS.ProcessEnv): Record<string, unknown> {
  const out: Record<string, any> = structuredClone(config);
  const section = (name: string): Record<string, unknown> => (out[name] = { ...(out[name] as object | undefined) });
  if (env.TLSRPT_STORE) {
    out.store = /^postgres(ql)?:\/\//.test(env.TLSRPT_STORE) ? { postgres: env.TLSRPT_STORE } : { sqlite: isRelativeFile(env.TLSRPT_STORE) ? path.resolve(env.TLSRPT_STORE) : env.TLSRPT_STORE };
  }
  if (env.TLSRPT_HTTP_LISTEN) section('http').listen = env.TLSRPT_HTTP_LISTEN;
  if (env.TLSRPT_HTTP_TOKEN) section('http').token = env.TLSRPT_HTTP_TOKEN;
  if (env.TLSRPT_COLLECTOR_SOCKET) section('collector').socket = path.resolve(env.TLSRPT_COLLECTOR_SOCKET);
  if (env.TLSRPT_SMTP_LISTEN) section('smtp').listen = env.TLSRPT_SMTP_LISTEN;
  return out;
}

/** Splits `HOST:PORT` (IPv6 in brackets) for `listen`. */
export function parseHostPort(value: string): { host: string; port: number } {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(value);
  if (!m || m[1] === undefined) throw new ConfigError(`expected HOST:PORT, got ${JSON.stringify(value)}`);
  return { host: m[1], port: Number(m[2]) };
}
