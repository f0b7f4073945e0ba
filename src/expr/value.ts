/**
 * @module expr/value — the values expressions compute with (string, number, list) and the
 * operator semantics of Stalwart 0.16's expression language: truthiness, `+` concatenation,
 * string↔number comparison, division by zero giving 0.
 */

import { at } from '../common/checked.js';

/** `true`/`false` are the numbers 1/0; integers and floats share JavaScript's number. */
export type Value = string | number | Value[];

/** Variables of one evaluation, by expression name (`rcpt_domain`, `submitter`…). */
export type Vars = Readonly<Record<string, Value | undefined>>;

/** `0`, `0.0`, `""` and `[]` are false; everything else is true. */
export function truthy(v: Value): boolean {
  if (typeof v === 'string') return v.length > 0;
  if (typeof v === 'number') return v !== 0 && !Number.isNaN(v);
  return v.length > 0;
}

export const bool = (b: boolean): number => (b ? 1 : 0);

const INTEGER = /^[+-]?\d+$/;
const FLOAT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** A string read as a number (Stalwart: integer, else float, else 0). */
export function parseNumber(v: Value): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    if (INTEGER.test(v) || FLOAT.test(v)) return Number(v);
    return 0;
  }
  return 0;
}

/** Text of a value: numbers in decimal, lists joined by CRLF (as Stalwart renders them). */
export function toText(v: Value): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return numberText(v);
  let out = '';
  for (const item of v) {
    if (Array.isArray(item)) continue;
    if (out) out += '\r\n';
    out += toText(item);
  }
  return out;
}

function numberText(n: number): string {
  if (Number.isNaN(n)) return '0';
  return String(n);
}

/** A list view of a value: lists as they are, a non-empty scalar as a one-item list, `""` as `[]`. */
export function toList(v: Value): Value[] {
  if (Array.isArray(v)) return v;
  if (v === '') return [];
  return [v];
}

/** A non-negative integer index, or -1 when the value is not one. */
export function toIndex(v: Value): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' && INTEGER.test(v) ? Number(v) : NaN;
  if (!Number.isFinite(n) || n < 0) return -1;
  return Math.trunc(n);
}

export function equals(a: Value, b: Value): boolean {
  if (typeof a === 'number') {
    if (typeof b === 'number') return a === b;
    if (typeof b === 'string') return a === parseNumber(b);
    return false;
  }
  if (typeof a === 'string') {
    if (typeof b === 'string') return a === b;
    if (typeof b === 'number') return parseNumber(a) === b;
    return false;
  }
  if (!Array.isArray(b) || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!equals(at(a, i), at(b, i))) return false;
  return true;
}

/** Total order used by `< > <= >=` and `sort`: numbers, strings (a string next to a number is read as a number), then lists. */
export function compare(a: Value, b: Value): number {
  if (typeof a === 'number' && typeof b === 'number') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'string' && typeof b === 'number') return compare(parseNumber(a), b);
  if (typeof a === 'number' && typeof b === 'string') return compare(a, parseNumber(b));
  if (Array.isArray(a) && Array.isArray(b)) {
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) {
      const c = compare(at(a, i), at(b, i));
      if (c !== 0) return c;
    }
    return a.length - b.length;
  }
  return Array.isArray(a) ? 1 : -1;
}

/** `+`: numbers add; a string on either side concatenates; lists concatenate (a scalar is appended or prepended). */
export function add(a: Value, b: Value): Value {
  if (typeof a === 'number' && typeof b === 'number') return a + b;
  if (Array.isArray(a)) return Array.isArray(b) ? a.concat(b) : [...a, b];
  if (Array.isArray(b)) return [a, ...b];
  return toText(a) + toText(b);
}

/** `-`: numbers subtract; on a list, removes the elements equal to the other side. */
export function subtract(a: Value, b: Value): Value {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (Array.isArray(a)) {
    return Array.isArray(b) ? a.filter((x) => !b.some((y) => equals(x, y))) : a.filter((x) => !equals(x, b));
  }
  if (Array.isArray(b)) return b.filter((x) => !equals(x, a));
  return parseNumber(a) - parseNumber(b);
}

export function multiply(a: Value, b: Value): number {
  return parseNumber(a) * parseNumber(b);
}

/** `/` is floating point; division by zero gives 0 (never Infinity or NaN). */
export function divide(a: Value, b: Value): number {
  const d = parseNumber(b);
  if (d === 0) return 0;
  return parseNumber(a) / d;
}

export function negate(a: Value): number {
  return -parseNumber(a);
}

/** Renders a value for people: strings as they are, numbers in decimal, lists as JSON. */
export function display(v: Value): string {
  return Array.isArray(v) ? JSON.stringify(v) : toText(v);
}

/** Converts plain JSON data (booleans, numbers, strings, arrays) to a Value; anything else gives `""`. */
export function fromJson(v: unknown): Value {
  if (typeof v === 'string' || typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (Array.isArray(v)) return v.map(fromJson);
  return '';
}
