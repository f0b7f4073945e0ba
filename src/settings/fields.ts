/**
 * @module settings/fields — the three settings singletons as users configure them (docs/spec/settings.md):
 * every field's type, default expression, the variables its expressions may use, and the
 * conversion of an evaluated value to the field's type. Values that reach mail headers never
 * contain CR, LF, NUL or other control characters: a conversion refuses them.
 */
import type { Value } from '../expr/index.js';
import { toText, truthy } from '../expr/index.js';
import type { WindowFrequency } from '../store/tables/outbound.js';

export const SINGLETONS = ['TlsReportSettings', 'ReportSettings', 'SystemSettings'] as const;
export type SingletonName = (typeof SINGLETONS)[number];

export function isSingletonName(name: string): name is SingletonName {
  return (SINGLETONS as readonly string[]).includes(name);
}

/** One list of send frequencies: the store keeps the one in force with each window. */
export type Frequency = WindowFrequency;

/** A converted value, or why the value does not fit the field. */
export type Converted<T> = { ok: true; value: T } | { ok: false; reason: string };

export interface FieldSpec<T = unknown> {
  name: string;
  /**
   * `expression`: a setting value ({else}/{match}, or a plain expression string, number, boolean);
   * `plain`: a literal JSON string (SystemSettings), or an {else} setting; `list`: a literal list
   * or string, or a setting value.
   */
  form: 'expression' | 'plain' | 'list';
  variables: readonly string[];
  constants?: Readonly<Record<string, Value>>;
  /** The default, in the same form a user writes it. */
  default: unknown;
  /** Used when even the default does not convert (for instance a host name that is no domain). */
  last: T;
  convert(v: Value): Converted<T>;
  /** Short type description for messages and `settings show`. */
  type: string;
}

/**
 * Variables Stalwart's documentation lists for queue expressions. At run time Stalwart resolves
 * only `rcpt_domain` for report settings; pasted configurations using the others must parse, and
 * the others evaluate to "".
 */
export const STALWART_QUEUE_VARIABLES: readonly string[] = [
  'rcpt', 'sender', 'sender_domain', 'mx', 'helo_domain', 'authenticated_as', 'listener', 'remote_ip', 'remote_port',
  'local_ip', 'local_port', 'priority', 'protocol', 'is_tls', 'recipients', 'retry_num', 'notify_num', 'expires_in',
  'last_status', 'last_error', 'queue_name', 'queue_age', 'source', 'size',
];

const rcpt = ['rcpt_domain', ...STALWART_QUEUE_VARIABLES];
const withSubmitter = ['rcpt_domain', 'submitter', ...STALWART_QUEUE_VARIABLES];

export const FREQUENCY_CONSTANTS: Readonly<Record<string, Value>> = Object.freeze({
  hourly: 'hourly', daily: 'daily', weekly: 'weekly', never: 'never', disable: 'disable',
});

// C0 controls (but TAB), DEL: CR/LF would let a value inject mail headers (the delivery helper
// checks again at the header; sanitising where the value enters is the first line).
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f]/;
const DOMAIN = /^[\p{L}\p{N}_](?:[\p{L}\p{N}_-]*[\p{L}\p{N}_])?(?:\.[\p{L}\p{N}_](?:[\p{L}\p{N}_-]*[\p{L}\p{N}_])?)*\.?$/u;
const ADDRESS = /^[^\s@<>()[\],;:"\\]+@[^\s@<>()[\],;:"\\]+$/;

const bad = (reason: string): { ok: false; reason: string } => ({ ok: false, reason });
const describe = (v: Value) => (typeof v === 'string' ? JSON.stringify(v.length > 60 ? v.slice(0, 60) + '…' : v) : Array.isArray(v) ? 'a list' : `the number ${v}`);

/** A header-safe, non-empty text. */
export function convertText(v: Value, maxLength = 998): Converted<string> {
  if (typeof v !== 'string') return bad(`${describe(v)} is not a text`);
  if (v === '') return bad('the text is empty');
  if (CONTROL.test(v)) return bad(`${describe(v)} contains a control character (CR, LF, NUL…)`);
  if (v.length > maxLength) return bad(`the text is longer than ${maxLength} characters`);
  return { ok: true, value: v };
}

export function convertOptionalText(v: Value): Converted<string | undefined> {
  // A `false` result means "unset" (how `contactInfo` is left out).
  if (v === 0 || v === '') return { ok: true, value: undefined };
  return convertText(v);
}

export function convertDomain(v: Value): Converted<string> {
  const t = convertText(v, 253);
  if (!t.ok) return t;
  if (!DOMAIN.test(t.value)) return bad(`${describe(v)} is not a domain name`);
  return t;
}

export function convertAddress(v: Value): Converted<string> {
  const t = convertText(v, 254);
  if (!t.ok) return t;
  if (!ADDRESS.test(t.value)) return bad(`${describe(v)} is not an e-mail address (local@domain)`);
  return t;
}

/** `hourly`, `daily`, `weekly`, `never` — quoted or not; Stalwart's `disable` means `never`. */
export function convertFrequency(v: Value): Converted<Frequency> {
  const s = typeof v === 'string' ? v.trim().toLowerCase() : '';
  if (s === 'hourly' || s === 'daily' || s === 'weekly' || s === 'never') return { ok: true, value: s };
  if (s === 'disable' || s === 'disabled') return { ok: true, value: 'never' };
  return bad(`${describe(v)} is not a frequency: expected hourly, daily, weekly or never`);
}

/** A size in bytes: a positive integer or a numeric string. */
export function convertSize(v: Value): Converted<number> {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(v) ? Number(v) : NaN;
  if (!Number.isFinite(n) || n < 1) return bad(`${describe(v)} is not a size in bytes (a positive integer)`);
  if (n > Number.MAX_SAFE_INTEGER) return bad(`${describe(v)} is too large`);
  return { ok: true, value: Math.floor(n) };
}

export function convertBoolean(v: Value): Converted<boolean> {
  if (typeof v === 'string' && /^(false|no|off)$/i.test(v.trim())) return { ok: true, value: false };
  return { ok: true, value: truthy(v) };
}

/** Recipient patterns: exact addresses or `*` wildcards (`postmaster@*`, `*@reports.example.org`). */
export function convertPatterns(v: Value): Converted<string[]> {
  const items = Array.isArray(v) ? v : v === '' || v === 0 ? [] : [v];
  const out: string[] = [];
  for (const item of items) {
    const s = toText(item).trim();
    if (s === '') continue;
    if (CONTROL.test(s) || /\s/.test(s)) return bad(`pattern ${describe(s)} contains white space or a control character`);
    if (!/^[^@]+@[^@]+$/.test(s)) return bad(`pattern ${describe(s)} is not local@domain (with * as a wildcard)`);
    out.push(s.toLowerCase());
  }
  return { ok: true, value: out };
}

const f = <T>(spec: FieldSpec<T>): FieldSpec<T> => spec;

export const TLS_REPORT_FIELDS = {
  fromName: f({ name: 'fromName', form: 'expression', variables: ['report_id', ...withSubmitter], default: { else: "'Report Subsystem'" }, last: 'Report Subsystem', convert: (v) => convertText(v), type: 'text' }),
  fromAddress: f({ name: 'fromAddress', form: 'expression', variables: withSubmitter, default: { else: "'noreply-tls@' + system('domain')" }, last: 'noreply-tls@localhost', convert: convertAddress, type: 'e-mail address' }),
  subject: f({ name: 'subject', form: 'expression', variables: ['report_id', 'period_start', 'period_end', ...withSubmitter], default: { else: "'TLS Aggregate Report'" }, last: 'TLS Aggregate Report', convert: (v) => convertText(v), type: 'text' }),
  orgName: f({ name: 'orgName', form: 'expression', variables: withSubmitter, default: { else: "system('domain')" }, last: 'localhost', convert: (v) => convertText(v), type: 'text' }),
  contactInfo: f<string | undefined>({ name: 'contactInfo', form: 'expression', variables: withSubmitter, default: { else: 'false' }, last: undefined, convert: convertOptionalText, type: 'text or false (unset)' }),
  sendFrequency: f<Frequency>({ name: 'sendFrequency', form: 'expression', variables: rcpt, constants: FREQUENCY_CONSTANTS, default: { else: 'daily' }, last: 'daily', convert: convertFrequency, type: 'hourly, daily, weekly or never' }),
  maxReportSize: f({ name: 'maxReportSize', form: 'expression', variables: withSubmitter, default: { else: '5242880' }, last: 5242880, convert: convertSize, type: 'size in bytes' }),
  dkimSignDomain: f({ name: 'dkimSignDomain', form: 'expression', variables: withSubmitter, default: { else: "system('domain')" }, last: 'localhost', convert: convertDomain, type: 'domain' }),
};

export const REPORT_FIELDS = {
  outboundReportSubmitter: f({ name: 'outboundReportSubmitter', form: 'expression', variables: rcpt, default: { else: "system('hostname')" }, last: 'localhost', convert: convertDomain, type: 'domain' }),
  inboundReportAddresses: f({ name: 'inboundReportAddresses', form: 'list', variables: [], default: ['postmaster@*'], last: ['postmaster@*'], convert: convertPatterns, type: 'list of address patterns' }),
  inboundReportForwarding: f({ name: 'inboundReportForwarding', form: 'expression', variables: [], default: true, last: true, convert: convertBoolean, type: 'true or false' }),
  inboundReportMaxSize: f({ name: 'inboundReportMaxSize', form: 'expression', variables: [], default: 26214400, last: 26214400, convert: convertSize, type: 'size in bytes' }),
};

export const SYSTEM_FIELDS = {
  domain: f({ name: 'domain', form: 'plain', variables: [], default: undefined, last: 'localhost', convert: convertDomain, type: 'domain' }),
  hostname: f({ name: 'hostname', form: 'plain', variables: [], default: undefined, last: 'localhost', convert: convertDomain, type: 'domain' }),
};

export const FIELDS: Record<SingletonName, Record<string, FieldSpec<any>>> = {
  TlsReportSettings: TLS_REPORT_FIELDS,
  ReportSettings: REPORT_FIELDS,
  SystemSettings: SYSTEM_FIELDS,
};
