/**
 * @module expr/tokenize — the lexical grammar: string literals with backslash escapes, integers,
 * floats, durations (`30d`, `500ms` → milliseconds), identifiers `[A-Za-z_$][A-Za-z0-9_$.]*` and
 * the operators, each token with its 0-based source position for error messages.
 */
import { ExprError } from './errors.js';

export type Token =
  | { kind: 'string'; value: string; pos: number; end: number }
  | { kind: 'number'; value: number; pos: number; end: number; text: string }
  | { kind: 'ident'; value: string; pos: number; end: number }
  | { kind: 'op'; value: Operator; pos: number; end: number; text: string }
  | { kind: 'punct'; value: '(' | ')' | '[' | ']' | ','; pos: number; end: number }
  | { kind: 'eof'; pos: number; end: number };

/** Binary and unary operators after normalising Stalwart's aliases (`=` → `==`, `&` → `&&`, `|` → `||`, `=>` → `>=`, `=<` → `<=`). */
export type Operator = '+' | '-' | '*' | '/' | '==' | '!=' | '>' | '<' | '>=' | '<=' | '&&' | '||' | '^' | '!';

/** Duration units, in milliseconds. */
const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** Longest source accepted (a setting is a line or two; this bounds parser work on hostile input). */
export const MAX_SOURCE_LENGTH = 16384;

const isDigit = (c: number) => c >= 48 && c <= 57;
const isIdentStart = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 36;
const isIdentPart = (c: number) => isIdentStart(c) || isDigit(c) || c === 46;
const isLetter = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122);

export function describeToken(t: Token): string {
  switch (t.kind) {
    case 'eof': return 'end of expression';
    case 'string': return `string ${JSON.stringify(t.value.length > 20 ? t.value.slice(0, 20) + '…' : t.value)}`;
    case 'number': return `number ${t.text}`;
    case 'ident': return `'${t.value}'`;
    case 'op': return `'${t.text}'`;
    case 'punct': return `'${t.value}'`;
  }
}

/** Splits an expression into tokens; throws ExprError at the first character that fits no token. */
export function tokenize(source: string): Token[] {
  if (source.length > MAX_SOURCE_LENGTH) {
    throw new ExprError(`expression too long (${source.length} characters, at most ${MAX_SOURCE_LENGTH})`, MAX_SOURCE_LENGTH);
  }
  const out: Token[] = [];
  const n = source.length;
  let i = 0;
  while (i < n) {
    const c = source.charCodeAt(i);
    // Space, TAB, CR, LF (Stalwart refuses TAB; being lenient costs nothing).
    if (c === 32 || c === 9 || c === 10 || c === 13) {
      i++;
      continue;
    }
    const start = i;
    if (c === 39 || c === 34) {
      const { value, end } = readString(source, i);
      out.push({ kind: 'string', value, pos: start, end });
      i = end;
      continue;
    }
    if (isDigit(c)) {
      const token = readNumber(source, i);
      out.push(token);
      i = token.end;
      continue;
    }
    if (isIdentStart(c)) {
      i++;
      while (i < n && isIdentPart(source.charCodeAt(i))) i++;
      out.push({ kind: 'ident', value: source.slice(start, i), pos: start, end: i });
      continue;
    }
    const next = i + 1 < n ? source[i + 1] : '';
    const op = (value: Operator, len: number) => {
      out.push({ kind: 'op', value, pos: start, end: start + len, text: source.slice(start, start + len) });
      i = start + len;
    };
    switch (source[i]) {
      case '(': case ')': case '[': case ']': case ',':
        out.push({ kind: 'punct', value: source[i] as '(' | ')' | '[' | ']' | ',', pos: start, end: start + 1 });
        i++;
        break;
      case '+': op('+', 1); break;
      case '-': op('-', 1); break;
      case '*': op('*', 1); break;
      case '/': op('/', 1); break;
      case '^': op('^', 1); break;
      case '&': op('&&', next === '&' ? 2 : 1); break;
      case '|': op('||', next === '|' ? 2 : 1); break;
      case '!': if (next === '=') op('!=', 2); else op('!', 1); break;
      case '=':
        if (next === '=') op('==', 2);
        else if (next === '>') op('>=', 2);
        else if (next === '<') op('<=', 2);
        else op('==', 1);
        break;
      case '>': if (next === '=') op('>=', 2); else op('>', 1); break;
      case '<': if (next === '=') op('<=', 2); else op('<', 1); break;
      default: {
        const ch = String.fromCodePoint(source.codePointAt(i)!);
        const shown = /[\p{L}\p{N}\p{P}\p{S}]/u.test(ch) ? `'${ch}'` : `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
        throw new ExprError(`unexpected character ${shown} at position ${i}`, i, { expected: 'an operator, a value or a name' });
      }
    }
  }
  out.push({ kind: 'eof', pos: n, end: n });
  return out;
}

function readString(source: string, start: number): { value: string; end: number } {
  const quote = source[start];
  let value = '';
  let i = start + 1;
  let chunk = i;
  while (i < source.length) {
    const ch = source[i];
    if (ch === quote) return { value: value + source.slice(chunk, i), end: i + 1 };
    if (ch === '\\') {
      value += source.slice(chunk, i);
      const e = source[i + 1];
      if (e === undefined) break;
      value += e === 'n' ? '\n' : e === 'r' ? '\r' : e === 't' ? '\t' : e;
      i += 2;
      chunk = i;
      continue;
    }
    i++;
  }
  throw new ExprError(`unterminated string starting at position ${start}: expected ${quote} at position ${source.length}`, source.length, { expected: quote });
}

function readNumber(source: string, start: number): Token {
  let i = start;
  const n = source.length;
  while (i < n && isDigit(source.charCodeAt(i))) i++;
  if (source[i] === '.' && i + 1 < n && isDigit(source.charCodeAt(i + 1))) {
    i++;
    while (i < n && isDigit(source.charCodeAt(i))) i++;
  }
  const digitsEnd = i;
  let unitEnd = i;
  while (unitEnd < n && isLetter(source.charCodeAt(unitEnd))) unitEnd++;
  if (unitEnd < n && isIdentPart(source.charCodeAt(unitEnd))) {
    while (unitEnd < n && isIdentPart(source.charCodeAt(unitEnd))) unitEnd++;
    throw new ExprError(`invalid number ${source.slice(start, unitEnd)} at position ${start}`, start, { expected: 'a number or a duration such as 30d, 12h, 5m, 10s, 500ms' });
  }
  const text = source.slice(start, unitEnd);
  const amount = Number(source.slice(start, digitsEnd));
  if (unitEnd === digitsEnd) return { kind: 'number', value: amount, pos: start, end: unitEnd, text };
  const unit = source.slice(digitsEnd, unitEnd);
  const ms = DURATION_UNITS[unit];
  if (ms === undefined) {
    throw new ExprError(`unknown duration unit '${unit}' at position ${digitsEnd}`, digitsEnd, { expected: 'a duration unit: ms, s, m, h, d or w' });
  }
  return { kind: 'number', value: Math.round(amount * ms), pos: start, end: unitEnd, text };
}
