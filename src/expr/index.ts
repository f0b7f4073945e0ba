/**
 * @module expr/index — the settings expression language (compatible with Stalwart 0.16):
 * compile once with a field's context, evaluate many times.
 * @example
 * import { compileExpression } from './expr/index.js';
 * const e = compileExpression("'noreply-tls@' + rcpt_domain", { variables: ['rcpt_domain'] });
 * e.evaluate({ rcpt_domain: 'example.org' }); // 'noreply-tls@example.org'
 */
export { ExprError } from './errors.js';
export { compileExpression, type Compiled } from './compile.js';
export { compileSetting, type CompiledSetting } from './setting.js';
export type { ExprContext, ExprHost } from './parse.js';
export { FUNCTIONS, SYSTEM_NAMES } from './functions.js';
export { display, fromJson, toText, truthy, type Value, type Vars } from './value.js';
