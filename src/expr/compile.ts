/**
 * @module expr/compile — turns a syntax tree into nested closures once, so evaluating a setting
 * for each report is a few direct calls rather than a walk over the tree. Parts that depend on
 * no variable, capture or host answer are computed at compile time.
 */
import { FUNCTIONS } from './functions.js';
import { parse, type ExprContext, type Node } from './parse.js';
import {
  add, bool, compare, divide, equals, multiply, negate, subtract, toIndex, toList, toText, truthy,
  type Value, type Vars,
} from './value.js';

/** Per-evaluation state: the captures of the last `matches(...)` (`$0` whole match, `$1`…). */
export interface EvalState {
  caps: readonly string[];
}

export type EvalFn = (vars: Vars, state: EvalState) => Value;

export interface Code {
  fn: EvalFn;
  /** Depends on no variable, capture or host function. */
  isStatic: boolean;
  /** Reads or writes captures, so an evaluation needs its own state. */
  usesState: boolean;
}

/** A compiled expression: evaluate it as often as needed. */
export interface Compiled {
  readonly source: string;
  /** The value depends on no variable, capture, `system()` or `is_local_domain()`. */
  readonly isStatic: boolean;
  /** Never throws for values the language produces. */
  evaluate(vars?: Vars): Value;
}

export const NO_CAPTURES: readonly string[] = Object.freeze([]);
const NO_VARS: Vars = Object.freeze({});

/** Parses and compiles one expression; throws ExprError (with position) when it does not parse. */
export function compileExpression(source: string, ctx: ExprContext): Compiled {
  const code = compileSource(source, ctx);
  return toCompiled(source, code);
}

export function compileSource(source: string, ctx: ExprContext): Code {
  return compileNode(parse(source, ctx), ctx);
}

export function toCompiled(source: string, code: Code): Compiled {
  const { fn, isStatic, usesState } = code;
  const shared: EvalState = { caps: NO_CAPTURES };
  return {
    source,
    isStatic,
    evaluate: usesState
      ? (vars = NO_VARS) => fn(vars, { caps: NO_CAPTURES })
      : (vars = NO_VARS) => fn(vars, shared),
  };
}

const constant = (v: Value): Code => ({ fn: () => v, isStatic: true, usesState: false });

/** Folds a static part to its value (once, now). */
function fold(code: Code): Code {
  if (!code.isStatic) return code;
  try {
    return constant(code.fn(NO_VARS, { caps: NO_CAPTURES }));
  } catch {
    return code;
  }
}

export function compileNode(node: Node, ctx: ExprContext): Code {
  switch (node.t) {
    case 'lit':
      return constant(node.v);
    case 'var': {
      const name = node.name;
      return {
        fn: (vars) => {
          const v = vars[name];
          // Only values of the language: never undefined, null, or something inherited like Object.prototype.toString.
          return typeof v === 'string' || typeof v === 'number' || Array.isArray(v) ? v : '';
        },
        isStatic: false,
        usesState: false,
      };
    }
    case 'cap': {
      const n = node.n;
      return { fn: (_v, st) => st.caps[n] ?? '', isStatic: false, usesState: true };
    }
    case 'un': {
      const e = compileNode(node.e, ctx);
      const a = e.fn;
      const fn: EvalFn = node.op === '!' ? (v, s) => bool(!truthy(a(v, s))) : (v, s) => negate(a(v, s));
      return fold({ fn, isStatic: e.isStatic, usesState: e.usesState });
    }
    case 'bin':
      return compileBinary(node, ctx);
    case 'arr': {
      const items = node.items.map((i) => compileNode(i, ctx));
      const fns = items.map((i) => i.fn);
      return fold({
        fn: (v, s) => fns.map((f) => f(v, s)),
        isStatic: items.every((i) => i.isStatic),
        usesState: items.some((i) => i.usesState),
      });
    }
    case 'idx': {
      const e = compileNode(node.e, ctx);
      const i = compileNode(node.i, ctx);
      const ef = e.fn;
      const idf = i.fn;
      return fold({
        fn: (v, s) => {
          const list = toList(ef(v, s));
          const at = toIndex(idf(v, s));
          return list[at] ?? '';
        },
        isStatic: e.isStatic && i.isStatic,
        usesState: e.usesState || i.usesState,
      });
    }
    case 'matches': {
      const arg = compileNode(node.arg, ctx);
      const af = arg.fn;
      const re = node.re;
      return {
        fn: (v, s) => {
          const m = re.exec(toText(af(v, s)));
          if (!m) {
            s.caps = NO_CAPTURES;
            return 0;
          }
          const caps: string[] = new Array(m.length);
          for (let k = 0; k < m.length; k++) caps[k] = m[k] ?? '';
          s.caps = caps;
          return 1;
        },
        isStatic: false,
        usesState: true,
      };
    }
    case 'call':
      return compileCall(node, ctx);
  }
}

function compileBinary(node: Extract<Node, { t: 'bin' }>, ctx: ExprContext): Code {
  const l = compileNode(node.l, ctx);
  const r = compileNode(node.r, ctx);
  const a = l.fn;
  const b = r.fn;
  let fn: EvalFn;
  switch (node.op) {
    case '+': fn = (v, s) => add(a(v, s), b(v, s)); break;
    case '-': fn = (v, s) => subtract(a(v, s), b(v, s)); break;
    case '*': fn = (v, s) => multiply(a(v, s), b(v, s)); break;
    case '/': fn = (v, s) => divide(a(v, s), b(v, s)); break;
    case '==': fn = (v, s) => bool(equals(a(v, s), b(v, s))); break;
    case '!=': fn = (v, s) => bool(!equals(a(v, s), b(v, s))); break;
    case '<': fn = (v, s) => bool(compare(a(v, s), b(v, s)) < 0); break;
    case '>': fn = (v, s) => bool(compare(a(v, s), b(v, s)) > 0); break;
    case '<=': fn = (v, s) => bool(compare(a(v, s), b(v, s)) <= 0); break;
    case '>=': fn = (v, s) => bool(compare(a(v, s), b(v, s)) >= 0); break;
    // Short-circuit: the right side is not evaluated when the left decides.
    case '&&': fn = (v, s) => (truthy(a(v, s)) ? bool(truthy(b(v, s))) : 0); break;
    case '||': fn = (v, s) => (truthy(a(v, s)) ? 1 : bool(truthy(b(v, s)))); break;
    case '^': fn = (v, s) => bool(truthy(a(v, s)) !== truthy(b(v, s))); break;
  }
  return fold({ fn, isStatic: l.isStatic && r.isStatic, usesState: l.usesState || r.usesState });
}

function compileCall(node: Extract<Node, { t: 'call' }>, ctx: ExprContext): Code {
  const args = node.args.map((x) => compileNode(x, ctx));
  const fns = args.map((x) => x.fn);
  const usesState = args.some((x) => x.usesState);
  const argsStatic = args.every((x) => x.isStatic);
  // Arity was checked by the parser; a default keeps the destructured arguments typed as present.
  const none: EvalFn = () => '';
  const host = ctx.host;
  switch (node.name) {
    case 'if_then': {
      const [c = none, t = none, e = none] = fns;
      return fold({ fn: (v, s) => (truthy(c(v, s)) ? t(v, s) : e(v, s)), isStatic: argsStatic, usesState });
    }
    case 'system': {
      const [n = none] = fns;
      const fn: EvalFn = host ? (v, s) => host.system(toText(n(v, s))) ?? '' : () => '';
      return { fn, isStatic: false, usesState };
    }
    case 'is_local_domain': {
      const d = fns[fns.length - 1] ?? none;
      const fn: EvalFn = host ? (v, s) => bool(host.isLocalDomain(toText(d(v, s)))) : () => 0;
      return { fn, isStatic: false, usesState };
    }
  }
  const spec = FUNCTIONS[node.name];
  if (!spec?.impl) throw new Error(`function ${node.name} has no implementation`);
  const impl = spec.impl;
  let fn: EvalFn;
  switch (fns.length) {
    case 1: {
      const [a = none] = fns;
      fn = (v, s) => impl(a(v, s));
      break;
    }
    case 2: {
      const [a = none, b = none] = fns;
      fn = (v, s) => impl(a(v, s), b(v, s));
      break;
    }
    case 3: {
      const [a = none, b = none, c = none] = fns;
      fn = (v, s) => impl(a(v, s), b(v, s), c(v, s));
      break;
    }
    default:
      fn = (v, s) => impl(...fns.map((f) => f(v, s)));
  }
  return fold({ fn, isStatic: spec.pure && argsStatic, usesState });
}
