/**
 * @module receiving/extract/mime-headers — the header side of MIME, written for hostile
 * input: one linear pass each, no regular expression that can backtrack. Header fields
 * (RFC 5322 §2.2, unfolding §2.2.3), Content-Type parameters with RFC 2231 continuations and
 * charsets, RFC 2047 encoded words, and the quoted-printable transfer encoding (RFC 2045 §6.7).
 */
import { isUtf8 } from 'node:buffer';

export interface HeaderField { name: string /* lower-case */; value: string }

/** Splits a header section into unfolded fields. Lines without a colon are dropped (lenient). */
export function parseHeaderFields(section: Uint8Array, maxFields: number): HeaderField[] | null {
  const buf = Buffer.from(section.buffer, section.byteOffset, section.byteLength);
  // RFC 6532 allows UTF-8 in headers; anything else is read byte for byte.
  const text = isUtf8(buf) ? buf.toString('utf8') : buf.toString('latin1');
  const fields: HeaderField[] = [];
  let current: string | null = null;
  const flush = () => {
    if (current === null) return;
    const colon = current.indexOf(':');
    if (colon > 0) fields.push({ name: current.slice(0, colon).trim().toLowerCase(), value: current.slice(colon + 1).trim() });
    current = null;
  };
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    let line = text.slice(start, end);
    if (line.endsWith('\r')) line = line.slice(0, -1);
    start = end + 1;
    if (line.length === 0) continue;
    const c = line.charCodeAt(0);
    if ((c === 0x20 || c === 0x09) && current !== null) {
      current += line; // unfolding removes the line break only (RFC 5322 §2.2.3)
    } else {
      flush();
      if (fields.length >= maxFields) return null;
      current = line;
    }
  }
  flush();
  return fields;
}

export interface StructuredValue { value: string /* lower-case type or disposition */; params: Record<string, string> }

/**
 * Parses `type/subtype; a=b; c="quoted; string"; name*0*=utf-8''%E2%9C%93; name*1=x`.
 * Parameter names are lower-cased; RFC 2231 continuations are joined and decoded.
 */
export function parseStructured(raw: string): StructuredValue {
  const items: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < raw.length; i++) {
    const ch = raw[i];
    if (quoted) {
      if (ch === '\\' && i + 1 < raw.length) { cur += raw[++i]; continue; }
      if (ch === '"') quoted = false;
      else cur += ch;
      continue;
    }
    if (ch === '"') { quoted = true; continue; }
    if (ch === ';') { items.push(cur); cur = ''; continue; }
    cur += ch;
  }
  items.push(cur);
  const value = (items.shift() ?? '').trim().toLowerCase();
  const plain: Record<string, string> = {};
  const continued = new Map<string, { parts: Map<number, { text: string; encoded: boolean }> }>();
  for (const item of items) {
    const eq = item.indexOf('=');
    if (eq <= 0) continue;
    let key = item.slice(0, eq).trim().toLowerCase();
    const val = item.slice(eq + 1).trim();
    const encoded = key.endsWith('*');
    if (encoded) key = key.slice(0, -1);
    const star = key.lastIndexOf('*');
    const section = star > 0 ? Number(key.slice(star + 1)) : NaN;
    if (star > 0 && Number.isInteger(section) && section >= 0 && section < 10000) {
      const base = key.slice(0, star);
      let entry = continued.get(base);
      if (!entry) continued.set(base, (entry = { parts: new Map() }));
      entry.parts.set(section, { text: val, encoded });
    } else if (encoded) {
      plain[key] = decode2231(val, true);
    } else if (!(key in plain)) {
      plain[key] = val;
    }
  }
  for (const [base, { parts }] of continued) {
    const ordered = [...parts.entries()].sort((a, b) => a[0] - b[0]);
    const first = ordered[0]?.[1];
    let charset = 'utf-8';
    let out = '';
    ordered.forEach(([, p], i) => {
      let text = p.text;
      if (i === 0 && first?.encoded) {
        const m = splitCharset(text);
        charset = m.charset || charset;
        text = m.rest;
      }
      out += p.encoded ? percentDecode(text, charset) : text;
    });
    plain[base] = out;
  }
  return { value, params: plain };
}

function splitCharset(s: string): { charset: string; rest: string } {
  const a = s.indexOf("'");
  const b = a === -1 ? -1 : s.indexOf("'", a + 1);
  return b === -1 ? { charset: '', rest: s } : { charset: s.slice(0, a), rest: s.slice(b + 1) };
}

function decode2231(s: string, withCharset: boolean): string {
  const { charset, rest } = withCharset ? splitCharset(s) : { charset: '', rest: s };
  return percentDecode(rest, charset || 'utf-8');
}

function percentDecode(s: string, charset: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25 && i + 2 < s.length + 0 && /^[0-9a-fA-F]{2}$/.test(s.slice(i + 1, i + 3))) {
      bytes.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(c & 0xff);
    }
  }
  return decodeCharset(Uint8Array.from(bytes), charset);
}

function decodeCharset(bytes: Uint8Array, charset: string): string {
  try {
    return new TextDecoder(charset.trim().toLowerCase() || 'utf-8').decode(bytes);
  } catch {
    return Buffer.from(bytes).toString('latin1');
  }
}

/** Decodes RFC 2047 encoded words (`=?utf-8?B?…?=`, `=?iso-8859-1?Q?…?=`) in an unstructured header. */
export function decodeWords(value: string): string {
  if (!value.includes('=?')) return value;
  let out = '';
  let i = 0;
  let lastWasWord = false;
  let pendingSpace = '';
  while (i < value.length) {
    const start = value.indexOf('=?', i);
    if (start === -1) break;
    const q1 = value.indexOf('?', start + 2);
    const q2 = q1 === -1 ? -1 : value.indexOf('?', q1 + 1);
    const end = q2 === -1 ? -1 : value.indexOf('?=', q2 + 1);
    if (end === -1 || q2 !== q1 + 2) {
      out += pendingSpace + value.slice(i, start + 2);
      pendingSpace = '';
      lastWasWord = false;
      i = start + 2;
      continue;
    }
    const between = value.slice(i, start);
    // Whitespace between two encoded words is not displayed (RFC 2047 §6.2).
    if (!(lastWasWord && /^[ \t]*$/.test(between))) out += between;
    const [charset = ''] = value.slice(start + 2, q1).split('*');
    const enc = value.charAt(q1 + 1).toUpperCase();
    const text = value.slice(q2 + 1, end);
    let bytes: Uint8Array;
    if (enc === 'B') bytes = Buffer.from(text, 'base64');
    else if (enc === 'Q') bytes = decodeQuotedPrintable(Buffer.from(text.replace(/_/g, ' '), 'latin1'));
    else { out += value.slice(start, end + 2); i = end + 2; lastWasWord = false; continue; }
    out += decodeCharset(bytes, charset);
    lastWasWord = true;
    pendingSpace = '';
    i = end + 2;
  }
  return out + value.slice(i);
}

const hexVal = (c: number): number => (c >= 48 && c <= 57 ? c - 48 : c >= 65 && c <= 70 ? c - 55 : c >= 97 && c <= 102 ? c - 87 : -1);

/** RFC 2045 §6.7 quoted-printable, leniently: a malformed `=` is kept as it is. */
export function decodeQuotedPrintable(b: Uint8Array): Uint8Array {
  const out = Buffer.allocUnsafe(b.length);
  let o = 0;
  for (let i = 0; i < b.length; i++) {
    const c = b[i] ?? 0; // i < b.length
    if (c !== 0x3d) { out[o++] = c; continue; }
    // Soft line break: '=' then optional whitespace then CRLF or LF.
    let j = i + 1;
    while (j < b.length && (b[j] === 0x20 || b[j] === 0x09)) j++;
    if (j < b.length && b[j] === 0x0a) { i = j; continue; }
    if (j + 1 < b.length && b[j] === 0x0d && b[j + 1] === 0x0a) { i = j + 1; continue; }
    if (j === b.length) { i = j; continue; }
    const h = i + 2 < b.length ? hexVal(b[i + 1] ?? -1) : -1;
    const l = h >= 0 ? hexVal(b[i + 2] ?? -1) : -1;
    if (h >= 0 && l >= 0) { out[o++] = (h << 4) | l; i += 2; } else out[o++] = c;
  }
  return out.subarray(0, o);
}
