/**
 * @module expr/setting — a setting value as Stalwart stores it: `{"else": EXPR}` (a constant
 * expression), `{"match": [{"if": EXPR, "then": EXPR}, …], "else": EXPR}` (first truthy `if`
 * wins; `$1`… of a `matches` in an `if` are visible in its `then`), the object encoding of the
 * list (`{"0": {…}, "1": {…}}`), or a plain value (an expression string, a number, a boolean).
 */
import { ExprError } from './errors.js';
import { compileSource, toCompiled, type Code, type Compiled, type EvalFn } from './compile.js';
import type { ExprContext } from './parse.js';
import { truthy } from './value.js';

/** Position of errors in the shape of a setting value rather than inside an expression. */
const SHAPE = -1;

export interface CompiledSetting extends Compiled {
  /** Every value-producing part (`match[i].then`, `else`), to check constant results when saving. */
  readonly branches: readonly { path: string; compiled: Compiled }[];
}

/**
 * Compiles a setting value; throws ExprError whose `field` is the part at fault
 * (`match[0].if`, `else`…) and whose message carries the position.
 * @example
 * const s = compileSetting({ match: [{ if: "ends_with(rcpt_domain, '.gov')", then: 'hourly' }], else: 'daily' },
 *   { variables: ['rcpt_domain'], constants: { hourly: 'hourly', daily: 'daily' } });
 * s.evaluate({ rcpt_domain: 'agency.gov' }); // 'hourly'
 */
export function compileSetting(value: unknown, ctx: ExprContext): CompiledSetting {
  if (value === null || value === undefined) {
    throw new ExprError('no value: expected {"else": EXPR} or {"match": [...], "else": EXPR}', SHAPE, { field: '' });
  }
  if (typeof value !== 'object' || Array.isArray(value)) {
    const code = part(value, ctx, '');
    const compiled = toCompiled(sourceOf(value), code);
    return { ...compiled, branches: [{ path: '', compiled }] };
  }
  const obj = value as Record<string, unknown>;
  for (const key of Object.keys(obj)) {
    if (key !== 'match' && key !== 'else' && !key.startsWith('@')) {
      throw new ExprError(`unknown key "${key}": expected "match" and "else"`, SHAPE, { field: key });
    }
  }
  if (!('else' in obj) || obj.else === undefined || obj.else === null) {
    const field = 'match' in obj ? 'else' : '';
    throw new ExprError(`${'match' in obj ? 'a "match" needs an "else"' : 'missing "else"'}: expected {"else": EXPR}${'match' in obj ? '' : ' or {"match": [...], "else": EXPR}'}`, SHAPE, { field: field || 'else' });
  }
  const entries = matchEntries(obj.match);
  const conds: EvalFn[] = [];
  const thens: EvalFn[] = [];
  const branches: { path: string; compiled: Compiled }[] = [];
  let isStatic = true;
  let usesState = false;
  entries.forEach(({ key, entry }) => {
    const path = `match[${key}]`;
    if (!entry || typeof entry !== 'object' || Array.isArray(entry)) {
      throw new ExprError(`expected {"if": EXPR, "then": EXPR}`, SHAPE, { field: path });
    }
    const e = entry as Record<string, unknown>;
    for (const k of Object.keys(e)) {
      if (k !== 'if' && k !== 'then' && !k.startsWith('@')) throw new ExprError(`unknown key "${k}": expected "if" and "then"`, SHAPE, { field: `${path}.${k}` });
    }
    const c = part(e.if, ctx, `${path}.if`);
    const t = part(e.then, ctx, `${path}.then`);
    conds.push(c.fn);
    thens.push(t.fn);
    branches.push({ path: `${path}.then`, compiled: toCompiled(sourceOf(e.then), t) });
    isStatic &&= c.isStatic && t.isStatic;
    usesState ||= c.usesState || t.usesState;
  });
  const other = part(obj.else, ctx, 'else');
  branches.push({ path: 'else', compiled: toCompiled(sourceOf(obj.else), other) });
  isStatic &&= other.isStatic;
  usesState ||= other.usesState;
  const elseFn = other.fn;
  const n = conds.length;
  const fn: EvalFn = n === 0
    ? elseFn
    : (v, s) => {
      for (let i = 0; i < n; i++) {
        const cond = conds[i], then = thens[i];
        if (cond && then && truthy(cond(v, s))) return then(v, s);
      }
      return elseFn(v, s);
    };
  const compiled = toCompiled(JSON.stringify(value), { fn, isStatic, usesState });
  return { ...compiled, branches };
}

/** `match` as a list, or as an object keyed "0", "1", … (Stalwart's object encoding of lists). */
function matchEntries(match: unknown): { key: string; entry: unknown }[] {
  if (match === undefined || match === null) return [];
  if (Array.isArray(match)) return match.map((entry, i) => ({ key: String(i), entry }));
  if (typeof match === 'object') {
    const keys = Object.keys(match as object).filter((k) => !k.startsWith('@'));
    for (const k of keys) {
      if (!/^\d+$/.test(k)) throw new ExprError(`"match" keys must be "0", "1", …; found "${k}"`, SHAPE, { field: `match.${k}` });
    }
    return keys.sort((a, b) => Number(a) - Number(b)).map((key) => ({ key, entry: (match as Record<string, unknown>)[key] }));
  }
  throw new ExprError('"match" must be a list of {"if", "then"}', SHAPE, { field: 'match' });
}

function sourceOf(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v) ?? '';
}

/** One expression part: a string is parsed; a JSON number or boolean is a constant. */
function part(v: unknown, ctx: ExprContext, field: string): Code {
  if (typeof v === 'number' && Number.isFinite(v)) return { fn: () => v, isStatic: true, usesState: false };
  if (typeof v === 'boolean') {
    const n = v ? 1 : 0;
    return { fn: () => n, isStatic: true, usesState: false };
  }
  if (typeof v !== 'string') {
    throw new ExprError(v === undefined ? 'missing: expected an expression' : `expected an expression in a string, found ${Array.isArray(v) ? 'a list' : typeof v}`, SHAPE, { field });
  }
  if (v.trim() === '') throw new ExprError('empty expression: expected a value at position 0', 0, { field, expected: 'a value' });
  try {
    return compileSource(v, ctx);
  } catch (e) {
    if (e instanceof ExprError) e.field = field;
    throw e;
  }
}
