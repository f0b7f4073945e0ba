/**
 * @module expr/functions — the function library, with Stalwart 0.16's names and arguments.
 * Text functions applied to a list work item by item (as Stalwart's do). None throws: a wrong
 * argument gives `""`, 0 or false. `system`, `is_local_domain`, `if_then` and `matches` are
 * special forms handled by the compiler (host answers, laziness, captures).
 */
import { createHash } from 'node:crypto';
import { BlockList, isIP } from 'node:net';
import { bool, compare, equals, toIndex, toList, toText, truthy, type Value } from './value.js';

export interface FunctionSpec {
  min: number;
  max: number;
  /** Pure functions of constant arguments are folded at compile time. */
  pure: boolean;
  impl?: (...args: Value[]) => Value;
}

/** Names `system(name)` answers. */
export const SYSTEM_NAMES: readonly string[] = ['domain', 'hostname', 'node_id'];

/** Applies a text function to a value, item by item for a list. */
function mapText(v: Value, f: (s: string) => Value): Value {
  if (Array.isArray(v)) return v.map((x) => f(toText(x)));
  return f(toText(v));
}

const codePoints = (s: string): string[] => Array.from(s);

function isEmail(value: string): boolean {
  // RFC 5321 dot-atom local part (or quoted string) '@' a domain with at least one dot.
  const at = value.lastIndexOf('@');
  if (at <= 0 || at === value.length - 1) return false;
  const local = value.slice(0, at);
  const domain = value.slice(at + 1);
  const atom = /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~\u0080-\uFFFF]+(\.[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~\u0080-\uFFFF]+)*$/;
  const quoted = /^"([^"\\\r\n]|\\.)+"$/;
  if (!atom.test(local) && !quoted.test(local)) return false;
  return /^[A-Za-z0-9\u0080-\uFFFF]([A-Za-z0-9\-\u0080-\uFFFF]*[A-Za-z0-9\u0080-\uFFFF])?(\.[A-Za-z0-9\u0080-\uFFFF]([A-Za-z0-9\-\u0080-\uFFFF]*[A-Za-z0-9\u0080-\uFFFF])?)+$/.test(domain);
}

const cidrCache = new Map<string, BlockList | null>();

function cidrList(cidr: string): BlockList | null {
  let list = cidrCache.get(cidr);
  if (list !== undefined) return list;
  list = null;
  const m = /^([^/]+)(?:\/(\d{1,3}))?$/.exec(cidr.trim());
  const address = m?.[1] ?? '';
  const family = isIP(address);
  if (m && family) {
    const prefix = m[2] === undefined ? (family === 4 ? 32 : 128) : Number(m[2]);
    if (prefix <= (family === 4 ? 32 : 128)) {
      list = new BlockList();
      list.addSubnet(address, prefix, family === 4 ? 'ipv4' : 'ipv6');
    }
  }
  if (cidrCache.size > 1024) cidrCache.clear();
  cidrCache.set(cidr, list);
  return list;
}

function ipInCidr(ip: Value, cidr: Value): Value {
  const addr = toText(ip).trim();
  const family = isIP(addr);
  const list = cidrList(toText(cidr));
  if (!family || !list) return 0;
  return bool(list.check(addr, family === 4 ? 'ipv4' : 'ipv6'));
}

function splitN(s: string, sep: string, n: number): Value[] {
  const out: Value[] = [];
  let rest = s;
  for (let i = 0; i < n; i++) {
    const at = sep === '' ? -1 : rest.indexOf(sep);
    if (at < 0) break;
    out.push(rest.slice(0, at));
    rest = rest.slice(at + sep.length);
  }
  out.push(rest);
  return out;
}

function splitOnce(s: string, sep: string, last: boolean): Value {
  const at = last ? s.lastIndexOf(sep) : s.indexOf(sep);
  if (at < 0) return '';
  return [s.slice(0, at), s.slice(at + sep.length)];
}

function dedup(v: Value): Value[] {
  const out: Value[] = [];
  for (const x of toList(v)) if (!out.some((y) => equals(x, y))) out.push(x);
  return out;
}

function hash(v: Value, algo: Value): Value {
  const name = toText(algo);
  if (name !== 'md5' && name !== 'sha1' && name !== 'sha256' && name !== 'sha512') return '';
  return createHash(name).update(toText(v), 'utf8').digest('hex');
}

const f = (min: number, max: number, impl: FunctionSpec['impl'], pure = true): FunctionSpec => ({ min, max, pure, impl });

/** Every function by name. */
export const FUNCTIONS: Readonly<Record<string, FunctionSpec>> = Object.freeze(Object.assign(Object.create(null) as Record<string, FunctionSpec>, {
  // lists
  count: f(1, 1, (v) => (Array.isArray(v) ? v.length : v === '' ? 0 : 1)),
  sort: f(1, 2, (v, asc = 1) => {
    const list = [...toList(v)].sort(compare);
    return truthy(asc) ? list : list.reverse();
  }),
  dedup: f(1, 1, dedup),
  winnow: f(1, 1, (v) => (Array.isArray(v) ? v.filter((x) => x !== '') : v)),
  is_intersect: f(2, 2, (a, b) => {
    if (Array.isArray(a) && Array.isArray(b)) return bool(a.some((x) => b.some((y) => equals(x, y))));
    if (Array.isArray(a)) return bool(a.some((x) => equals(x, b)));
    if (Array.isArray(b)) return bool(b.some((x) => equals(x, a)));
    return 0;
  }),
  // tests
  is_empty: f(1, 1, (v) => bool(typeof v === 'number' ? false : v.length === 0)),
  is_number: f(1, 1, (v) => bool(typeof v === 'number')),
  is_email: f(1, 1, (v) => bool(isEmail(toText(v)))),
  email_part: f(2, 2, (v, part) => {
    const which = toText(part);
    return mapText(v, (s) => {
      const at = s.lastIndexOf('@');
      if (at < 0) return '';
      return which === 'local' ? s.slice(0, at).trim() : which === 'domain' ? s.slice(at + 1).trim() : '';
    });
  }),
  is_ip_addr: f(1, 1, (v) => bool(isIP(toText(v)) !== 0)),
  is_ipv4_addr: f(1, 1, (v) => bool(isIP(toText(v)) === 4)),
  is_ipv6_addr: f(1, 1, (v) => bool(isIP(toText(v)) === 6)),
  is_ip_in_cidr: f(2, 2, ipInCidr),
  // text
  trim: f(1, 1, (v) => mapText(v, (s) => s.trim())),
  trim_start: f(1, 1, (v) => mapText(v, (s) => s.trimStart())),
  trim_end: f(1, 1, (v) => mapText(v, (s) => s.trimEnd())),
  len: f(1, 1, (v) => (Array.isArray(v) ? v.length : codePoints(toText(v)).length)),
  to_lowercase: f(1, 1, (v) => (typeof v === 'string' ? v.toLowerCase() : mapText(v, (s) => s.toLowerCase()))),
  to_uppercase: f(1, 1, (v) => (typeof v === 'string' ? v.toUpperCase() : mapText(v, (s) => s.toUpperCase()))),
  is_uppercase: f(1, 1, (v) => mapText(v, (s) => bool(s === s.toUpperCase()))),
  is_lowercase: f(1, 1, (v) => mapText(v, (s) => bool(s === s.toLowerCase()))),
  has_digits: f(1, 1, (v) => mapText(v, (s) => bool(/[0-9]/.test(s)))),
  count_spaces: f(1, 1, (v) => (toText(v).match(/\s/gu) ?? []).length),
  count_uppercase: f(1, 1, (v) => (toText(v).match(/\p{Lu}/gu) ?? []).length),
  count_lowercase: f(1, 1, (v) => (toText(v).match(/\p{Ll}/gu) ?? []).length),
  count_chars: f(1, 1, (v) => codePoints(toText(v)).length),
  contains: f(2, 2, (a, b) => {
    if (Array.isArray(a)) return bool(a.some((x) => equals(x, b)));
    return bool(toText(a).includes(toText(b)));
  }),
  contains_ignore_case: f(2, 2, (a, b) => {
    const needle = toText(b).toLowerCase();
    if (Array.isArray(a)) return bool(a.some((x) => typeof x === 'string' && x.toLowerCase() === needle));
    return bool(toText(a).toLowerCase().includes(needle));
  }),
  eq_ignore_case: f(2, 2, (a, b) => bool(toText(a).toLowerCase() === toText(b).toLowerCase())),
  starts_with: f(2, 2, (a, b) => bool(toText(a).startsWith(toText(b)))),
  ends_with: f(2, 2, (a, b) => bool(toText(a).endsWith(toText(b)))),
  lines: f(1, 1, (v) => (typeof v === 'string' ? (v === '' ? [] : v.replace(/\r?\n$/, '').split(/\r?\n/)) : v)),
  substring: f(3, 3, (v, start, count) => {
    const s = toIndex(start);
    const n = toIndex(count);
    if (s < 0 || n < 0) return '';
    return codePoints(toText(v)).slice(s, s + n).join('');
  }),
  strip_prefix: f(2, 2, (v, p) => {
    const prefix = toText(p);
    return mapText(v, (s) => (s.startsWith(prefix) ? s.slice(prefix.length) : ''));
  }),
  strip_suffix: f(2, 2, (v, p) => {
    const suffix = toText(p);
    return mapText(v, (s) => (s.endsWith(suffix) ? s.slice(0, s.length - suffix.length) : ''));
  }),
  split: f(2, 2, (v, sep) => toText(v).split(toText(sep))),
  rsplit: f(2, 2, (v, sep) => toText(v).split(toText(sep)).reverse()),
  split_once: f(2, 2, (v, sep) => splitOnce(toText(v), toText(sep), false)),
  rsplit_once: f(2, 2, (v, sep) => splitOnce(toText(v), toText(sep), true)),
  split_n: f(3, 3, (v, sep, n) => splitN(toText(v), toText(sep), Math.max(0, Math.min(toIndex(n), 1 << 20)))),
  split_words: f(1, 1, (v) => toText(v).split(/\s+/u).filter((w) => w !== '' && /^[\p{L}\p{N}]+$/u.test(w))),
  hash: f(2, 2, hash),
  // special forms (compiled in compile.ts)
  if_then: { min: 3, max: 3, pure: true },
  system: { min: 1, max: 1, pure: false },
  is_local_domain: { min: 1, max: 2, pure: false },
}));
