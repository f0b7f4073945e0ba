/**
 * @module settings/validate-file — `settings validate FILE` in one call: the JSON (line and
 * column on a syntax error), every section and singleton field, then — when those are right —
 * the files the config names and the signing setup. Relative paths resolve against the file's
 * folder, as `serve` resolves them.
 */
import { readFileSync } from 'node:fs';
import { checkConfigFiles, checkSigningSetup } from './check-files.js';
import { loadConfig } from './config.js';
import { JsonSyntaxError, parseJsonText } from './json-text.js';
import { validateSettingsDocument, type SettingError } from './validate.js';

export interface FileValidation {
  /** Set when the file could not be read at all (a usage error, not an invalid config). */
  unreadable?: string;
  errors: (SettingError & { line?: number; column?: number })[];
}

export function validateConfigFile(file: string): FileValidation {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    return { unreadable: `cannot read ${file}: ${(e as Error).message}`, errors: [] };
  }
  let doc: unknown;
  try {
    doc = parseJsonText(text);
  } catch (e) {
    if (!(e instanceof JsonSyntaxError)) throw e;
    return { errors: [{ field: '(file)', line: e.line, column: e.column, message: `not valid JSON: ${e.message}` }] };
  }
  const errors = validateSettingsDocument(doc);
  if (errors.length) return { errors };
  // The shape is right: now what it points to. No environment: this checks the file itself.
  const config = loadConfig(file, {});
  return { errors: [...checkConfigFiles(config), ...checkSigningSetup(config)] };
}
