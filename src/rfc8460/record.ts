/** @module rfc8460/record — the `_smtp._tls` TXT record (RFC 8460 §3): grammar, rua URIs, record selection */

/** A usable reporting URI of a `rua=` field. */
export type RuaTarget =
  | { scheme: 'mailto'; uri: string; address: string }
  | { scheme: 'https'; uri: string; url: string };

export type RecordResult =
  | { ok: true; rua: RuaTarget[]; ignored: { uri: string; reason: string }[]; extensions: Record<string, string> }
  | { ok: false; reason: string };

const VERSION = 'v=TLSRPTv1';

function isWsp(c: number): boolean {
  return c === 32 || c === 9;
}

function isAlnum(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}

/** RFC 8460 §3: tlsrpt-ext-name = (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / "."). */
function isExtName(s: string): boolean {
  if (s.length < 1 || s.length > 32 || !isAlnum(s.charCodeAt(0))) return false;
  for (let i = 1; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!isAlnum(c) && c !== 95 && c !== 45 && c !== 46) return false;
  }
  return true;
}

/** RFC 8460 §3: tlsrpt-ext-value = 1*(%x21-3A / %x3C / %x3E-7E) — printable, no `;`, `=`, space. */
function isExtValue(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x21 || c > 0x7e || c === 0x3b || c === 0x3d) return false;
  }
  return true;
}

/**
 * Checks one URI of `rua=` against RFC 3986's character set. `,` `;` and `!` must be
 * percent-encoded inside a tlsrpt-uri (RFC 8460 §3); a `%` must start a valid escape.
 * Returns why it is malformed, or undefined.
 */
function uriSyntaxError(uri: string): string | undefined {
  const colon = uri.indexOf(':');
  if (colon <= 0) return 'no scheme';
  if (!/^[A-Za-z][A-Za-z0-9+.-]*$/.test(uri.slice(0, colon))) return 'malformed scheme';
  for (let i = 0; i < uri.length; i++) {
    const c = uri.charCodeAt(i);
    if (c === 37) {
      if (!isHex(uri.charCodeAt(i + 1)) || !isHex(uri.charCodeAt(i + 2))) return 'bad percent escape';
      i += 2;
      continue;
    }
    // RFC 3986 unreserved / gen-delims / sub-delims, minus the three RFC 8460 reserves.
    const ok = isAlnum(c) || '-._~:/?#[]@$&\'()*+='.includes(String.fromCharCode(c));
    if (!ok) return c === 33 ? 'unencoded "!"' : c === 32 || c === 9 ? 'whitespace inside the URI' : `character ${JSON.stringify(String.fromCharCode(c))} not allowed in a URI`;
  }
  return undefined;
}

function percentDecode(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined; // an escape that is not UTF-8
  }
}

/** A mailto: addr-spec without a display name or comment: local@domain. */
function isAddress(a: string): boolean {
  const at = a.lastIndexOf('@');
  if (at <= 0 || at === a.length - 1) return false;
  for (let i = 0; i < a.length; i++) {
    const c = a.charCodeAt(i);
    if (c <= 32 || c === 127 || c === 60 || c === 62 || c === 44) return false;
  }
  return a.slice(at + 1).indexOf('.') > 0 || a.slice(at + 1).indexOf('[') === 0;
}

function classifyUri(uri: string, rua: RuaTarget[], ignored: { uri: string; reason: string }[]): void {
  const scheme = uri.slice(0, uri.indexOf(':')).toLowerCase();
  if (scheme === 'mailto') {
    // RFC 6068: mailto:to[?hfields]; several addresses are `,`-separated, which RFC 8460 §3
    // requires percent-encoded here (%2C).
    const rest = uri.slice(7);
    const q = rest.indexOf('?');
    const decoded = percentDecode(q >= 0 ? rest.slice(0, q) : rest);
    if (decoded === undefined) { ignored.push({ uri, reason: 'percent escape is not UTF-8' }); return; }
    const addresses = decoded.split(',').map((a) => a.trim()).filter((a) => a.length > 0);
    if (addresses.length === 0) { ignored.push({ uri, reason: 'mailto: URI without an address' }); return; }
    for (const address of addresses) {
      if (isAddress(address)) rua.push({ scheme: 'mailto', uri, address });
      else ignored.push({ uri, reason: `"${address}" is not an e-mail address` });
    }
    return;
  }
  if (scheme === 'https') {
    let url: URL;
    try {
      url = new URL(uri);
    } catch {
      ignored.push({ uri, reason: 'not a valid https URL' });
      return;
    }
    if (url.hostname === '') { ignored.push({ uri, reason: 'https URL without a host' }); return; }
    rua.push({ scheme: 'https', uri, url: url.href });
    return;
  }
  // RFC 8460 §3 defines only mailto: and https:; other schemes are skipped, the rest still used.
  ignored.push({ uri, reason: `scheme "${scheme}:" is not supported (RFC 8460 §3: mailto or https)` });
}

/** Splits at `;` with optional surrounding whitespace (RFC 8460 §3 field-delim). */
function splitFields(text: string): string[] {
  return text.split(';').map((f) => trimWsp(f));
}

function trimWsp(s: string): string {
  let a = 0, b = s.length;
  while (a < b && isWsp(s.charCodeAt(a))) a++;
  while (b > a && isWsp(s.charCodeAt(b - 1))) b--;
  return s.slice(a, b);
}

/**
 * Parses one TLSRPT policy record (RFC 8460 §3). Usable when it is `v=TLSRPTv1` followed by a
 * `rua=` with at least one mailto:/https: URI; extensions are checked against the grammar and
 * otherwise ignored.
 * @example parseTlsrptRecord('v=TLSRPTv1; rua=mailto:tlsrpt@example.org')
 */
export function parseTlsrptRecord(text: string): RecordResult {
  const fields = splitFields(text);
  if (fields[0] !== VERSION || !text.startsWith(VERSION)) {
    const unsupported = text.startsWith('v=') && fields[0] !== VERSION;
    return { ok: false, reason: unsupported ? `unsupported version "${fields[0]}" (expected ${VERSION})` : `does not start with ${VERSION}` };
  }
  // Optional trailing `;` (RFC 8460 §3): one empty last field is allowed, no other empty field.
  if (fields.length > 1 && fields[fields.length - 1] === '') fields.pop();
  let ruaField: string | undefined;
  const extensions: Record<string, string> = {};
  for (const f of fields.slice(1)) {
    if (f === '') return { ok: false, reason: 'empty field (";;")' };
    const eq = f.indexOf('=');
    if (eq < 0) return { ok: false, reason: `field "${f}" is not name=value` };
    const name = f.slice(0, eq);
    const value = f.slice(eq + 1);
    if (name === 'rua') {
      if (ruaField !== undefined) return { ok: false, reason: 'more than one rua= field' };
      ruaField = value;
      continue;
    }
    if (name === 'v') return { ok: false, reason: 'a second v= field' };
    if (!isExtName(name)) return { ok: false, reason: `"${name}" is not an extension name (letter or digit, then at most 31 of letter, digit, _ - .)` };
    if (!isExtValue(value)) return { ok: false, reason: `extension ${name} has an invalid value "${value}" (printable, no "=", ";" or space, not empty)` };
    if (!Object.hasOwn(extensions, name)) Object.defineProperty(extensions, name, { value, enumerable: true, writable: true, configurable: true });
  }
  if (ruaField === undefined) return { ok: false, reason: 'no rua= field (RFC 8460 §3 requires one)' };
  if (trimWsp(ruaField) === '') return { ok: false, reason: 'rua= is empty' };
  const rua: RuaTarget[] = [];
  const ignored: { uri: string; reason: string }[] = [];
  for (const raw of ruaField.split(',')) {
    const uri = trimWsp(raw);
    if (uri === '') { ignored.push({ uri, reason: 'empty URI' }); continue; }
    const error = uriSyntaxError(uri);
    if (error !== undefined) return { ok: false, reason: `rua URI "${uri}": ${error}` };
    classifyUri(uri, rua, ignored);
  }
  if (rua.length === 0) {
    const why = ignored.map((x) => (x.uri ? `${x.uri}: ${x.reason}` : x.reason)).join('; ');
    return { ok: false, reason: `no usable rua URI (${why})` };
  }
  return { ok: true, rua, ignored, extensions };
}

/** True when a TXT string is a TLSRPT record candidate: `v=TLSRPTv1` then `;`, space or end. */
function isTlsrptCandidate(text: string): boolean {
  if (!text.startsWith(VERSION)) return false;
  const c = text.charCodeAt(VERSION.length);
  return Number.isNaN(c) || c === 59 || isWsp(c);
}

/**
 * Applies RFC 8460 §3's selection rule to all TXT records at `_smtp._tls.<domain>`: each
 * record's strings are joined without a separator, records not starting with `v=TLSRPTv1` are
 * dropped, and unless exactly one is left the domain has no usable TLSRPT policy.
 * @example selectTlsrptRecord([['v=TLSRPTv1; rua=mailto:', 'tls@example.org'], ['v=spf1 -all']])
 */
export function selectTlsrptRecord(txtRecords: (string | string[])[]): RecordResult {
  const candidates: string[] = [];
  for (const r of txtRecords) {
    const text = typeof r === 'string' ? r : r.join('');
    if (isTlsrptCandidate(text)) candidates.push(text);
  }
  const [only] = candidates;
  if (only === undefined) return { ok: false, reason: `no ${VERSION} record` };
  if (candidates.length > 1) return { ok: false, reason: `${candidates.length} ${VERSION} records; RFC 8460 §3 requires exactly one` };
  return parseTlsrptRecord(only);
}
