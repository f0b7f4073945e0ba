// The settings page's editing model: a setting value as Stalwart stores it ({"else"} or
// {"match": [{"if", "then"}], "else"}, or a bare expression) turned into rows of text inputs and
// back, and the API's error paths (`TlsReportSettings.fromName.match[0].if`) mapped to those rows.
export interface Branch { if: string; then: string }
export interface Editor { match: Branch[]; else: string }

export interface FormField {
  singleton: 'TlsReportSettings' | 'ReportSettings';
  field: string;
  default: unknown;
  type: string;
  variables: string[];
  value: unknown;
  source: string;
  locked: boolean;
  lockedReason?: string;
}

const text = (v: unknown): string => (v === undefined || v === null ? '' : typeof v === 'string' ? v : JSON.stringify(v));

export function toEditor(value: unknown): Editor {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const o = value as Record<string, unknown>;
    const raw = o.match;
    const list: unknown[] = Array.isArray(raw) ? raw : raw && typeof raw === 'object'
      ? Object.keys(raw).filter((k) => /^\d+$/.test(k)).sort((a, b) => Number(a) - Number(b)).map((k) => (raw as Record<string, unknown>)[k])
      : [];
    return {
      match: list.map((b) => ({ if: text((b as Record<string, unknown>)?.if), then: text((b as Record<string, unknown>)?.then) })),
      else: text(o.else),
    };
  }
  return { match: [], else: text(value) };
}

export function fromEditor(e: Editor): Record<string, unknown> {
  return e.match.length ? { match: e.match.map((b) => ({ if: b.if, then: b.then })), else: e.else } : { else: e.else };
}

/** The default as one line: `'Report Subsystem'`, or `if … then …; else …`. */
export function describeDefault(v: unknown): string {
  const e = toEditor(v);
  return [...e.match.map((b) => `if ${b.if} then ${b.then}`), e.match.length ? `else ${e.else}` : e.else].join('; ');
}

/** Which input an error path points at: `else`, `match.0.if`, `match.0.then`, or the whole field. */
export function errorTarget(path: string, singleton: string, field: string): string | undefined {
  const prefix = `${singleton}.${field}`;
  if (path !== prefix && !path.startsWith(`${prefix}.`)) return undefined;
  const rest = path.slice(prefix.length + 1);
  const m = /^match\[(\d+)\]\.(if|then)$/.exec(rest);
  if (m) return `match.${m[1]}.${m[2]}`;
  if (rest === 'else') return 'else';
  return 'field';
}
