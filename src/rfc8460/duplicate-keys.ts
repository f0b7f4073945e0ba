/**
 * @module rfc8460/duplicate-keys — finds JSON member names given twice in one object. JSON.parse
 * silently keeps the last (RFC 8259 §4 leaves duplicates undefined, RFC 7493 I-JSON forbids
 * them, and RFC 8460 §4 reports are I-JSON), so a report could show one count to one reader
 * and another to us. A cheap count decides whether to look: members in the text (`:` outside
 * strings) against keys in the parsed value; only when they differ is the text walked again
 * to name each duplicate's path.
 */

/** Members (`name: value` pairs) in JSON text: the `:` outside strings. */
function countMembers(t: string): number {
  let n = 0;
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (c === 34) {
      for (i++; i < t.length; i++) {
        const d = t.charCodeAt(i);
        if (d === 34) break;
        if (d === 92) i++;
      }
    } else if (c === 58) n++;
  }
  return n;
}

function countKeys(v: unknown): number {
  if (typeof v !== 'object' || v === null) return 0;
  let n = 0;
  if (Array.isArray(v)) {
    for (const e of v) n += countKeys(e);
    return n;
  }
  for (const k of Object.keys(v)) n += 1 + countKeys((v as Record<string, unknown>)[k]);
  return n;
}

interface Frame { object: boolean; keys: Set<string>; path: string; index: number; key?: string }

/**
 * Paths (`policies[0].summary.total-failure-session-count`) of member names that occur more
 * than once in their object; at most `max`. Empty for JSON without duplicates.
 * @example duplicateKeyPaths('{"a":1,"a":2}', JSON.parse('{"a":1,"a":2}')) // ['a']
 */
export function duplicateKeyPaths(text: string, parsed: unknown, max = 20): string[] {
  if (countMembers(text) === countKeys(parsed)) return [];
  const out: string[] = [];
  const stack: Frame[] = [];
  const childPath = (f: Frame | undefined): string => {
    if (!f) return '';
    if (f.object) return f.path ? `${f.path}.${f.key}` : String(f.key);
    return `${f.path}[${f.index}]`;
  };
  let expectKey = false;
  for (let i = 0; i < text.length && out.length < max; i++) {
    const c = text.charCodeAt(i);
    if (c === 34) {
      const start = i;
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === 34) break;
        if (d === 92) i++;
      }
      const top = stack[stack.length - 1];
      if (expectKey && top?.object) {
        const raw = text.slice(start, i + 1);
        const name = raw.includes('\\') ? (JSON.parse(raw) as string) : raw.slice(1, -1);
        if (top.keys.has(name)) out.push(top.path ? `${top.path}.${name}` : name);
        top.keys.add(name);
        top.key = name;
        expectKey = false;
      }
    } else if (c === 123 || c === 91) {
      const parent = stack[stack.length - 1];
      stack.push({ object: c === 123, keys: new Set(), path: childPath(parent), index: 0 });
      expectKey = c === 123;
    } else if (c === 125 || c === 93) {
      stack.pop();
    } else if (c === 44) {
      const top = stack[stack.length - 1];
      if (top?.object) expectKey = true;
      else if (top) top.index++;
    }
  }
  return out;
}
