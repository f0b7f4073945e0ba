/** @module test/expr/fuzz — property tests: random token sequences and random text never crash the parser or the evaluator. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { compileExpression, compileSetting, ExprError, type ExprContext } from '../../src/expr/index.js';

const ctx: ExprContext = {
  variables: ['rcpt_domain', 'submitter'],
  constants: { daily: 'daily' },
  host: { system: () => 'example.org', isLocalDomain: () => true },
};

const TOKENS = [
  '(', ')', '[', ']', ',', '+', '-', '*', '/', '==', '=', '!=', '!', '>', '<', '>=', '<=', '&&', '&', '||', '|', '^', '=>', '=<',
  '0', '1', '25', '1.5', '30d', '500ms', '2x', "'a'", '"b"', "'", '"', "'\\'", 'true', 'false', '$1', '$0', '$', 'rcpt_domain', 'submitter',
  'daily', 'unknown_var', 'a.b', 'system', "system('domain')", 'matches', "matches('(a)(b)?',", "'(('", 'len', 'split', 'sort', 'if_then',
  'substring', 'hash', 'is_ip_in_cidr', 'split_n', 'lines', 'count', 'dedup', ' ', '\t', '\n', '#', '{', '}', '\u0000', 'é', '🙂',
];

/** Anything but an ExprError escaping is a crash. */
function compileOrExprError(src: string): void {
  let compiled;
  try {
    compiled = compileExpression(src, ctx);
  } catch (e) {
    if (e instanceof ExprError) {
      assert.equal(typeof e.position, 'number');
      assert.ok(e.position >= 0 && e.position <= src.length, `position ${e.position} outside ${JSON.stringify(src)}`);
      return;
    }
    throw e;
  }
  const v = compiled.evaluate({ rcpt_domain: 'mail.example.org', submitter: 'mx' });
  assert.ok(typeof v === 'string' || typeof v === 'number' || Array.isArray(v));
}

describe('parser fuzzing', () => {
  it('random token sequences give a value or an ExprError', () => {
    fc.assert(fc.property(fc.array(fc.constantFrom(...TOKENS), { maxLength: 40 }), fc.constantFrom(' ', ''), (toks, sep) => {
      compileOrExprError(toks.join(sep));
    }), { numRuns: 5000 });
  });
  it('random text gives a value or an ExprError', () => {
    fc.assert(fc.property(fc.string({ maxLength: 80, unit: 'binary' }), (s) => compileOrExprError(s)), { numRuns: 3000 });
  });
  it('random setting values give a compiled setting or an ExprError', () => {
    const part = fc.oneof(fc.constantFrom(...TOKENS), fc.string({ maxLength: 10 }), fc.integer(), fc.boolean(), fc.constant(null));
    const value = fc.oneof(
      part,
      fc.record({ else: part }, { requiredKeys: [] }),
      fc.record({ match: fc.array(fc.record({ if: part, then: part }, { requiredKeys: [] }), { maxLength: 3 }), else: part }, { requiredKeys: [] }),
      fc.dictionary(fc.string({ maxLength: 3 }), part),
    );
    fc.assert(fc.property(value, (v) => {
      try {
        compileSetting(v, ctx).evaluate({ rcpt_domain: 'x' });
      } catch (e) {
        if (!(e instanceof ExprError)) throw e;
      }
    }), { numRuns: 3000 });
  });
});
