/**
 * @module expr/parse — recursive-descent parser from tokens to a small syntax tree. Precedence,
 * high to low: postfix `x[i]`; unary `! -`; `* /`; `+ -`; `< > <= >=`; `== !=`; `^`; `&&`; `||`
 * (all binary operators left-associative). Names are resolved here against the field's context,
 * so an unknown name, function or arity is a parse error with its position.
 */
import { ExprError } from './errors.js';
import { FUNCTIONS, SYSTEM_NAMES } from './functions.js';
import { describeToken, tokenize, type Operator, type Token } from './tokenize.js';
import type { Value } from './value.js';
import { at } from '../common/checked.js';

export type Node =
  | { t: 'lit'; v: Value; pos: number }
  | { t: 'var'; name: string; pos: number }
  | { t: 'cap'; n: number; pos: number }
  | { t: 'un'; op: '!' | '-'; e: Node; pos: number }
  | { t: 'bin'; op: Exclude<Operator, '!'>; l: Node; r: Node; pos: number }
  | { t: 'call'; name: string; args: Node[]; pos: number }
  | { t: 'matches'; re: RegExp; arg: Node; pos: number }
  | { t: 'arr'; items: Node[]; pos: number }
  | { t: 'idx'; e: Node; i: Node; pos: number };

/** Which names a field's expressions may use. */
export interface ExprContext {
  /** Variables of the evaluation context (a variable with no value evaluates to `""`). */
  variables: readonly string[] | ReadonlySet<string>;
  /** Named constants allowed for the field, e.g. `{ daily: 'daily' }` for `sendFrequency`. */
  constants?: Readonly<Record<string, Value>>;
  /** Where `system(name)` and `is_local_domain(d)` get their answers; without it they give `""` / false. */
  host?: ExprHost;
}

export interface ExprHost {
  system(name: string): Value;
  isLocalDomain(domain: string): boolean;
}

/** Binary operators by precedence level, lowest first. */
const LEVELS: readonly (readonly Operator[])[] = [['||'], ['&&'], ['^'], ['==', '!='], ['<', '>', '<=', '>='], ['+', '-'], ['*', '/']];

/** Bounds recursion on hostile input such as 10,000 opening parentheses. */
const MAX_DEPTH = 64;

export function parse(source: string, ctx: ExprContext): Node {
  return new Parser(source, tokenize(source), ctx).parseAll();
}

class Parser {
  private i = 0;
  private depth = 0;
  private readonly vars: ReadonlySet<string>;

  constructor(private readonly source: string, private readonly tokens: Token[], private readonly ctx: ExprContext) {
    this.vars = ctx.variables instanceof Set ? ctx.variables : new Set(ctx.variables as readonly string[]);
  }

  parseAll(): Node {
    if (this.peek().kind === 'eof') throw new ExprError('empty expression: expected a value at position 0', 0, { expected: 'a value' });
    const node = this.expression();
    const t = this.peek();
    if (t.kind !== 'eof') {
      const hint = t.kind === 'punct' && t.value === ')' ? "unmatched ')'" : `unexpected ${describeToken(t)}`;
      throw new ExprError(`${hint} at position ${t.pos}: expected an operator or end of expression`, t.pos, { expected: 'an operator or end of expression' });
    }
    return node;
  }

  private peek(): Token {
    return at(this.tokens, this.i);
  }

  private next(): Token {
    const t = at(this.tokens, this.i);
    if (t.kind !== 'eof') this.i++;
    return t;
  }

  private expect(value: ')' | ']' | ',' | '(', what = `'${value}'`): Token {
    const t = this.peek();
    if (t.kind === 'punct' && t.value === value) return this.next();
    throw new ExprError(`expected ${what} at position ${t.pos}, found ${describeToken(t)}`, t.pos, { expected: what });
  }

  private isPunct(value: string): boolean {
    const t = this.peek();
    return t.kind === 'punct' && t.value === value;
  }

  private expression(): Node {
    if (++this.depth > MAX_DEPTH) {
      const t = this.peek();
      throw new ExprError(`expression nested too deeply at position ${t.pos} (at most ${MAX_DEPTH} levels)`, t.pos);
    }
    const node = this.binary(0);
    this.depth--;
    return node;
  }

  private binary(level: number): Node {
    if (level === LEVELS.length) return this.unary();
    let left = this.binary(level + 1);
    const ops = at(LEVELS, level);
    for (;;) {
      const t = this.peek();
      if (t.kind !== 'op' || !ops.includes(t.value)) return left;
      this.next();
      const right = this.binary(level + 1);
      left = { t: 'bin', op: t.value as Exclude<Operator, '!'>, l: left, r: right, pos: t.pos };
    }
  }

  private unary(): Node {
    const t = this.peek();
    if (t.kind === 'op' && (t.value === '!' || t.value === '-')) {
      this.next();
      if (++this.depth > MAX_DEPTH) throw new ExprError(`expression nested too deeply at position ${t.pos} (at most ${MAX_DEPTH} levels)`, t.pos);
      const e = this.unary();
      this.depth--;
      return { t: 'un', op: t.value, e, pos: t.pos };
    }
    return this.postfix();
  }

  private postfix(): Node {
    let node = this.primary();
    while (this.isPunct('[')) {
      const open = this.next();
      if (this.isPunct(']')) {
        const t = this.peek();
        throw new ExprError(`expected an index at position ${t.pos}, found ']'`, t.pos, { expected: 'an index' });
      }
      const index = this.expression();
      this.expect(']');
      node = { t: 'idx', e: node, i: index, pos: open.pos };
    }
    return node;
  }

  private primary(): Node {
    const t = this.next();
    switch (t.kind) {
      case 'number': return { t: 'lit', v: t.value, pos: t.pos };
      case 'string': return { t: 'lit', v: t.value, pos: t.pos };
      case 'ident': return this.name(t);
      case 'punct':
        if (t.value === '(') {
          const e = this.expression();
          this.expect(')');
          return e;
        }
        if (t.value === '[') {
          const items = this.list(']');
          return { t: 'arr', items, pos: t.pos };
        }
        break;
      default:
        break;
    }
    throw new ExprError(`expected a value at position ${t.pos}, found ${describeToken(t)}`, t.pos, { expected: 'a value' });
  }

  /** Comma-separated expressions up to `close` (which is consumed). */
  private list(close: ')' | ']'): Node[] {
    const items: Node[] = [];
    if (this.isPunct(close)) {
      this.next();
      return items;
    }
    for (;;) {
      items.push(this.expression());
      if (this.isPunct(',')) {
        this.next();
        continue;
      }
      this.expect(close, `',' or '${close}'`);
      return items;
    }
  }

  private name(t: Extract<Token, { kind: 'ident' }>): Node {
    const name = t.value;
    if (this.isPunct('(')) return this.call(t);
    if (name === 'true') return { t: 'lit', v: 1, pos: t.pos };
    if (name === 'false') return { t: 'lit', v: 0, pos: t.pos };
    const capture = /^\$(\d{1,3})$/.exec(name);
    if (capture) return { t: 'cap', n: Number(capture[1]), pos: t.pos };
    if (this.vars.has(name)) return { t: 'var', name, pos: t.pos };
    const constants = this.ctx.constants;
    if (constants && Object.prototype.hasOwnProperty.call(constants, name)) return { t: 'lit', v: constants[name] ?? '', pos: t.pos };
    const allowed = [...Object.keys(constants ?? {}), ...this.vars];
    const hint = name.includes('.') ? ` (a literal text needs quotes: '${name}')` : '';
    const list = allowed.length ? `; allowed here: ${allowed.slice(0, 10).join(', ')}${allowed.length > 10 ? ', …' : ''}` : '';
    throw new ExprError(`variable ${name} is not allowed here (position ${t.pos})${hint}${list}`, t.pos, { expected: 'a variable or constant of this field' });
  }

  private call(t: Extract<Token, { kind: 'ident' }>): Node {
    const name = t.value;
    this.expect('(');
    if (name === 'matches') return this.matches(t);
    const spec = FUNCTIONS[name];
    if (!spec || !Object.prototype.hasOwnProperty.call(FUNCTIONS, name)) {
      throw new ExprError(`unknown function ${name} at position ${t.pos}`, t.pos, { expected: 'a function name' });
    }
    const args = this.list(')');
    if (args.length < spec.min || args.length > spec.max) {
      const want = spec.min === spec.max ? `${spec.min}` : `${spec.min} to ${spec.max}`;
      throw new ExprError(`function ${name} at position ${t.pos} expects ${want} argument${spec.max === 1 ? '' : 's'}, got ${args.length}`, t.pos, { expected: `${want} arguments` });
    }
    const [first] = args;
    if (name === 'system' && first?.t === 'lit' && !SYSTEM_NAMES.includes(String(first.v))) {
      throw new ExprError(`system(${JSON.stringify(first.v)}) at position ${first.pos}: expected one of ${SYSTEM_NAMES.map((s) => `'${s}'`).join(', ')}`, first.pos, { expected: SYSTEM_NAMES.join(', ') });
    }
    return { t: 'call', name, args, pos: t.pos };
  }

  /** `matches('regex', value)`: the regex must be a literal, so it is compiled (and checked) once. */
  private matches(t: Token): Node {
    const lit = this.peek();
    if (lit.kind !== 'string') {
      throw new ExprError(`expected a regular expression in quotes at position ${lit.pos}, found ${describeToken(lit)}`, lit.pos, { expected: 'a regular expression in quotes' });
    }
    this.next();
    const re = compileRegex(lit.value, lit.pos);
    this.expect(',');
    const arg = this.expression();
    this.expect(')');
    return { t: 'matches', re, arg, pos: t.pos };
  }
}

/**
 * Stalwart's regexes are Rust `regex` syntax; the common subset is the same in JavaScript. Leading
 * inline flags `(?i)`, `(?s)`, `(?m)` (which Node 20's RegExp lacks) become RegExp flags.
 */
function compileRegex(pattern: string, pos: number): RegExp {
  let flags = '';
  let body = pattern;
  const inline = /^\(\?([imsU]+)\)/.exec(body);
  if (inline?.[1] !== undefined) {
    if (inline[1].includes('U')) throw new ExprError(`regular expression at position ${pos}: the U (ungreedy) flag is not supported`, pos);
    flags = [...new Set(inline[1])].join('');
    body = body.slice(inline[0].length);
  }
  try {
    return new RegExp(body, flags + 'u');
  } catch {
    try {
      return new RegExp(body, flags);
    } catch (e) {
      throw new ExprError(`invalid regular expression at position ${pos}: ${(e as Error).message}`, pos, { expected: 'a valid regular expression' });
    }
  }
}

export { MAX_DEPTH };
