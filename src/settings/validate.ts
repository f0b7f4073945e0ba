/**
 * @module settings/validate — compiles and checks settings singletons before anything keeps them:
 * every expression must parse in its field's context, and every branch whose value is known
 * without a report (`{"else": "'monthly'"}`) must convert to the field's type. Errors name the
 * field (`TlsReportSettings.subject.match[0].if`), the position and what was expected.
 */
import { compileSetting, ExprError, fromJson, type Compiled, type CompiledSetting, type ExprHost, type Value } from '../expr/index.js';
import { FIELDS, SINGLETONS, type FieldSpec, type SingletonName } from './fields.js';
import { configIssues } from './config.js';
import { nearest } from './config-errors.js';
import { STALWART_015_KEYS } from './sections/index.js';

export interface SettingError {
  /** Dotted path: `TlsReportSettings.sendFrequency.else`. */
  field: string;
  /** 0-based character offset inside the expression, when the error is in one. */
  position?: number;
  message: string;
}

/** Largest singleton accepted, as JSON text. */
export const MAX_SINGLETON_BYTES = 262144;

function constantSetting(v: Value, source: string): CompiledSetting {
  const compiled: Compiled = { source, isStatic: true, evaluate: () => v };
  return { ...compiled, branches: [{ path: '', compiled }] };
}

/** Compiles one field's value (throws ExprError whose `field` is the part inside the value). */
export function compileField(spec: FieldSpec, value: unknown, host?: ExprHost): CompiledSetting {
  const literal = spec.form === 'plain' ? typeof value === 'string' : spec.form === 'list' ? typeof value === 'string' || Array.isArray(value) : false;
  if (literal) {
    if (Array.isArray(value) && !value.every((x) => typeof x === 'string')) throw new ExprError('expected a list of strings', -1, { field: '' });
    return constantSetting(fromJson(value), JSON.stringify(value));
  }
  if (spec.form === 'plain' && (typeof value !== 'object' || value === null || Array.isArray(value))) {
    throw new ExprError(`expected a string, found ${Array.isArray(value) ? 'a list' : value === null ? 'null' : typeof value}`, -1, { field: '' });
  }
  if (Array.isArray(value)) throw new ExprError('expected {"else": EXPR} or {"match": [...], "else": EXPR}, found a list', -1, { field: '' });
  return compileSetting(value, { variables: spec.variables, constants: spec.constants, host });
}

const join = (...parts: string[]) => parts.filter((p) => p !== '').join('.');

/** Every error of one singleton's value (empty when it may be stored). */
export function validateSingleton(name: SingletonName, value: unknown): SettingError[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return [{ field: name, message: `expected a JSON object with the fields of ${name}` }];
  }
  if (JSON.stringify(value).length > MAX_SINGLETON_BYTES) {
    return [{ field: name, message: `${name} is larger than ${MAX_SINGLETON_BYTES} bytes of JSON` }];
  }
  const fields = FIELDS[name];
  const errors: SettingError[] = [];
  for (const [key, raw] of Object.entries(value as Record<string, unknown>)) {
    if (key.startsWith('@')) continue; // annotations such as "@type" in Stalwart's object encoding
    const spec = Object.prototype.hasOwnProperty.call(fields, key) ? fields[key] : undefined;
    if (!spec) {
      errors.push({ field: join(name, key), message: unknownFieldMessage(name, key, Object.keys(fields)) });
      continue;
    }
    if (raw === null) continue; // null = back to the default
    let compiled: CompiledSetting;
    try {
      compiled = compileField(spec, raw);
    } catch (e) {
      if (!(e instanceof ExprError)) throw e;
      errors.push({ field: join(name, key, e.field ?? ''), ...(e.position >= 0 ? { position: e.position } : {}), message: constantHint(spec, e) ?? e.message });
      continue;
    }
    for (const branch of compiled.branches) {
      if (!branch.compiled.isStatic) continue;
      const converted = spec.convert(branch.compiled.evaluate({}));
      if (!converted.ok) errors.push({ field: join(name, key, branch.path), message: `${converted.reason} (${key} needs ${spec.type})` });
    }
  }
  return errors;
}

/**
 * Every error of a config document (`tlsrpt.json`): its service sections and the three singletons.
 * @example validateSettingsDocument(JSON.parse(text)) // [] when valid
 */
export function validateSettingsDocument(doc: unknown): SettingError[] {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return [{ field: '(root)', message: 'expected a JSON object' }];
  const errors: SettingError[] = configIssues(doc as Record<string, unknown>);
  for (const name of SINGLETONS) {
    const value = (doc as Record<string, unknown>)[name];
    if (value !== undefined) errors.push(...validateSingleton(name, value));
  }
  return errors;
}

/** `from-name` (Stalwart ≤ 0.15's spelling) or a typo: name the field meant. */
function unknownFieldMessage(name: SingletonName, key: string, fields: string[]): string {
  const old = Object.entries(STALWART_015_KEYS).find(([k]) => k.endsWith(`.${key}`))?.[1];
  const camel = key.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
  const near = old?.startsWith(`${name}.`) ? old.slice(name.length + 1).split(' ')[0] : nearest(camel, fields);
  const stalwart = old ? ` (Stalwart ≤ 0.15 called it ${key}; it is now ${old})` : '';
  return `unknown field ${key}${near ? ` (did you mean "${near}"?)` : ''}${stalwart}; ${name} has ${fields.join(', ')}`;
}

/**
 * `{"else": "dayly"}` parses as an unknown variable; for a field with named values (sendFrequency)
 * say which value was meant instead of "variable dayly is not allowed here".
 */
function constantHint(spec: FieldSpec, e: ExprError): string | undefined {
  const m = /^variable (\S+) is not allowed here/.exec(e.message);
  if (!m || !m[1] || !spec.constants) return undefined;
  // A variable of other fields (`submitter` in sendFrequency) keeps the parser's own message.
  if (Object.values(FIELDS).some((fields) => Object.values(fields).some((f) => f.variables.includes(m[1]!)))) return undefined;
  const values = Object.keys(spec.constants).filter((c) => c !== 'disable');
  const near = nearest(m[1], values);
  return `${m[1]} is not a value of ${spec.name}${near ? ` — did you mean ${near}?` : ''} (position ${e.position}); expected ${values.join(', ')}`;
}

/** One line per error, as the CLI prints them. */
export function formatSettingError(e: SettingError): string {
  return `${e.field}: ${e.message}`;
}
