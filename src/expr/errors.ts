/** @module expr/errors — the one error type of the expression language: what went wrong, and where. */

/**
 * A source that does not parse (or a setting value of the wrong shape).
 * `position` is the 0-based character offset in the expression source (-1 when the error is in
 * the shape of a setting value, not inside an expression); `field` is the path
 * inside a setting value (`match[0].if`, `else`) when the error comes from `compileSetting`.
 * @example
 * try { compileExpression('(1 + 2', ctx) } catch (e) { e.message } // "expected ')' at position 6, found end of expression"
 */
export class ExprError extends Error {
  override name = 'ExprError';
  readonly position: number;
  readonly expected?: string;
  field?: string;
  constructor(message: string, position: number, opts: { expected?: string; field?: string } = {}) {
    super(message);
    this.position = position;
    if (opts.expected !== undefined) this.expected = opts.expected;
    if (opts.field !== undefined) this.field = opts.field;
  }
}
