/**
 * @module settings/config-errors — turns zod's issues about a config document into sentences a
 * mail operator can act on: `http.tokn: unknown key (did you mean "token"?); http has listen,
 * token, …`, `relay.host: missing — the relay, e.g. smtp.example.org`, `delivery.spreadSeconds:
 * expected a number, found the string "60"`. Also the helpers that go with it (nearest name,
 * `_comment` keys).
 */
import type { z } from 'zod';

/** Levenshtein distance, for "did you mean". */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

/**
 * The candidate closest to `word` when it is plausibly a typo (case-insensitive distance at most
 * a third of the word, at least 2; or one is a prefix of the other: `spreadSecond`, `sockt`).
 */
export function nearest(word: string, candidates: readonly string[]): string | undefined {
  const w = word.toLowerCase();
  let best: { name: string; d: number } | undefined;
  for (const c of candidates) {
    const l = c.toLowerCase();
    const d = editDistance(w, l);
    const limit = Math.max(2, Math.floor(Math.max(w.length, l.length) / 3));
    const prefix = w.length >= 3 && (l.startsWith(w) || w.startsWith(l));
    if ((d <= limit || prefix) && (!best || d < best.d)) best = { name: c, d };
  }
  return best?.name;
}

/** JSON has no comments: keys starting with `_` or `$` are notes and dropped, at any depth. */
export function stripComments(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripComments);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (!/^[_$]/.test(k)) out[k] = stripComments(v);
  return out;
}

type Def = { type: string; innerType?: z.ZodType; in?: z.ZodType; element?: z.ZodType; shape?: Record<string, z.ZodType>; options?: z.ZodType[] };
const defOf = (s: z.ZodType) => (s as unknown as { _zod: { def: Def } })._zod.def;

/** The schema of an object or array at a path, with wrappers (optional, default, pipe) removed. */
export function schemaAt(schema: z.ZodType | undefined, pathParts: readonly PropertyKey[]): z.ZodType | undefined {
  let s = unwrap(schema);
  for (const part of pathParts) {
    if (!s) return undefined;
    const def = defOf(s);
    if (def.type === 'array' && typeof part === 'number') s = unwrap(def.element);
    else if (def.type === 'object' && def.shape) s = unwrap(def.shape[String(part)]);
    else return undefined;
  }
  return s;
}

function unwrap(s: z.ZodType | undefined): z.ZodType | undefined {
  while (s) {
    const def = defOf(s);
    if (def.innerType && ['optional', 'default', 'prefault', 'nullable', 'readonly', 'catch', 'nonoptional'].includes(def.type)) s = def.innerType;
    else if (def.type === 'pipe' && def.in) s = def.in;
    else return s;
  }
  return s;
}

/** The keys an object schema has (for "did you mean" and "it has …"). */
function keysOf(s: z.ZodType | undefined): string[] {
  if (!s) return [];
  const def = defOf(s);
  return def.type === 'object' && def.shape ? Object.keys(def.shape) : [];
}

/** What a key is for: its `.describe()` text, when the schema has one. */
function descriptionAt(root: z.ZodType, parts: readonly PropertyKey[]): string | undefined {
  const parent = schemaAt(root, parts.slice(0, -1));
  const last = parts[parts.length - 1];
  if (!parent || last === undefined) return undefined;
  const def = defOf(parent);
  const child = def.type === 'object' && def.shape ? def.shape[String(last)] : def.type === 'array' ? def.element : undefined;
  let s: z.ZodType | undefined = child;
  while (s) {
    const d = (s as { description?: string }).description;
    if (d) return d;
    const inner: Def = defOf(s);
    s = inner.innerType ?? (inner.type === 'pipe' ? inner.in : undefined);
  }
  return undefined;
}

const dotted = (parts: readonly PropertyKey[]) =>
  parts.reduce<string>((acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${String(p)}` : String(p)), '');

function valueAt(doc: unknown, parts: readonly PropertyKey[]): unknown {
  let v: unknown = doc;
  for (const p of parts) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[p as string];
  }
  return v;
}

function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  if (typeof v === 'object') return 'an object';
  return `${typeof v === 'number' ? 'the number' : typeof v === 'boolean' ? 'the boolean' : typeof v} ${String(v)}`;
}

const TYPE_WORDS: Record<string, string> = {
  string: 'a string', number: 'a number', int: 'a whole number', boolean: 'true or false', object: 'an object ({ … })',
  array: 'a list ([ … ])', record: 'an object ({ … })',
};

/**
 * One sentence per problem. `doc` is the document that was checked (to say what was found);
 * `root` is the schema it was checked against (to name real keys).
 */
export function describeIssues(issues: readonly z.core.$ZodIssue[], doc: unknown, root: z.ZodType): { field: string; message: string }[] {
  const out: { field: string; message: string }[] = [];
  for (const issue of issues) {
    const parts = issue.path;
    if (issue.code === 'unrecognized_keys') {
      const known = keysOf(schemaAt(root, parts));
      for (const key of issue.keys) {
        const near = nearest(key, known);
        const where = dotted(parts) || '(top level)';
        out.push({
          field: dotted([...parts, key]),
          message: `unknown key${near ? ` (did you mean "${near}"?)` : ''}; ${where} has ${known.join(', ')}`,
        });
      }
      continue;
    }
    const field = dotted(parts) || '(top level)';
    const found = valueAt(doc, parts);
    if (issue.code === 'invalid_type') {
      const what = TYPE_WORDS[issue.expected] ?? issue.expected;
      if (found === undefined) {
        const desc = descriptionAt(root, parts);
        out.push({ field, message: `missing: this key is required${desc ? ` — ${desc}` : ''} (expected ${what})` });
      } else {
        out.push({ field, message: `expected ${what}, found ${kindOf(found)}` });
      }
      continue;
    }
    if (issue.code === 'invalid_value') {
      const allowed = issue.values.map((v) => JSON.stringify(v));
      const near = typeof found === 'string' ? nearest(found, issue.values.map(String)) : undefined;
      out.push({ field, message: `${found === undefined ? 'missing' : `${kindOf(found)} is not allowed`}${near ? ` (did you mean "${near}"?)` : ''}; expected one of ${allowed.join(', ')}` });
      continue;
    }
    if (issue.code === 'too_small' || issue.code === 'too_big') {
      const custom = !/^Too (small|big)/.test(issue.message);
      const bound = issue.code === 'too_small' ? `at least ${String(issue.minimum)}` : `at most ${String(issue.maximum)}`;
      const unit = issue.origin === 'string' ? ' characters' : issue.origin === 'array' ? ' entries' : '';
      out.push({ field, message: custom ? issue.message : `expected ${bound}${unit}, found ${kindOf(found)}` });
      continue;
    }
    if (issue.code === 'invalid_union') {
      out.push({ field, message: `expected one of the allowed forms, found ${kindOf(found)}` });
      continue;
    }
    out.push({ field, message: issue.message });
  }
  return out;
}
