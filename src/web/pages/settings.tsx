// Settings › TLS reports (`/settings/tls`): the eight TlsReportSettings fields and
// ReportSettings.outboundReportSubmitter as expression editors, each with its default, checked
// as you type (the API compiles them and answers errors with positions), a preview for one
// recipient domain, and Save (applies at once, no restart). A field the config file locks is
// shown read-only with the reason (when the API marks it `locked`).
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError } from '../api';
import { useApi } from '../use-api';
import { Status } from '../components/status';
import { describeDefault, errorTarget, fromEditor, toEditor, type Editor, type FormField } from './settings-model';

interface SettingsForm {
  fields: FormField[];
  values: { TlsReportSettings: Record<string, unknown>; ReportSettings: Record<string, unknown> };
  system: { domain: string; hostname: string };
}
interface SettingError { field: string; position?: number; message: string }
type FieldPreview = { value: unknown; default: boolean } | { error: string; position?: number; default: boolean };
interface Preview { rcptDomain: string; errors: SettingError[]; fields: Record<string, FieldPreview> }

const key = (f: FormField) => `${f.singleton}.${f.field}`;

function ExprInput({ id, label, value, onInput, readOnly, error }: { id: string; label: string; value: string; onInput: (v: string) => void; readOnly: boolean; error?: SettingError }) {
  return (
    <div class={`expr${error ? ' invalid' : ''}`}>
      <label for={id}>{label}</label>
      <input id={id} value={value} readOnly={readOnly} spellcheck={false} autocomplete="off" aria-invalid={error ? 'true' : undefined}
        aria-describedby={error ? `${id}-err` : undefined} onInput={(e) => onInput((e.target as HTMLInputElement).value)} />
      {error && (
        <p id={`${id}-err`} class="error" role="alert">
          {error.message}{error.position !== undefined && !/position \d/.test(error.message) ? ` (at position ${error.position})` : ''}
          {error.position !== undefined && <><br /><code class="caret">{value}{'\n'}{' '.repeat(Math.min(error.position, value.length))}^</code></>}
        </p>
      )}
    </div>
  );
}

function FieldEditor({ f, editor, set, errors, preview }: { f: FormField; editor: Editor; set: (e: Editor) => void; errors: SettingError[]; preview?: FieldPreview }) {
  const id = `f-${f.field}`;
  const errAt = (target: string) => errors.find((e) => errorTarget(e.field, f.singleton, f.field) === target);
  const whole = errors.find((e) => errorTarget(e.field, f.singleton, f.field) === 'field');
  return (
    <fieldset class="field" aria-describedby={`${id}-help`}>
      <legend>{f.field} <span class="muted">({f.singleton})</span></legend>
      <p id={`${id}-help`} class="help">
        {f.type}. Default: <code data-k="default">{describeDefault(f.default)}</code>
        {f.variables.length ? <> · variables: {f.variables.join(', ')}</> : null}
      </p>
      {f.locked && <p class="locked" role="note">Locked by the config file{f.lockedReason ? `: ${f.lockedReason}` : ''}. Change it there.</p>}
      {editor.match.map((b, i) => (
        <div class="branch" key={i}>
          <ExprInput id={`${id}-if-${i}`} label={`if (${i + 1})`} value={b.if} readOnly={f.locked} error={errAt(`match.${i}.if`)}
            onInput={(v) => set({ ...editor, match: editor.match.map((x, j) => (j === i ? { ...x, if: v } : x)) })} />
          <ExprInput id={`${id}-then-${i}`} label="then" value={b.then} readOnly={f.locked} error={errAt(`match.${i}.then`)}
            onInput={(v) => set({ ...editor, match: editor.match.map((x, j) => (j === i ? { ...x, then: v } : x)) })} />
          {!f.locked && <button type="button" onClick={() => set({ ...editor, match: editor.match.filter((_, j) => j !== i) })}>Remove condition {i + 1}</button>}
        </div>
      ))}
      <ExprInput id={`${id}-else`} label={editor.match.length ? 'else' : 'value'} value={editor.else} readOnly={f.locked} error={errAt('else')}
        onInput={(v) => set({ ...editor, else: v })} />
      {whole && <p class="error" role="alert">{whole.message}</p>}
      {!f.locked && (
        <div class="actions">
          <button type="button" onClick={() => set({ ...editor, match: [...editor.match, { if: '', then: '' }] })}>Add condition</button>
          <button type="button" onClick={() => set(toEditor(f.default))}>Use default</button>
        </div>
      )}
      <p class="preview" aria-live="polite">
        {preview === undefined ? '' : 'value' in preview
          ? <>Evaluates to <output data-k={`preview-${f.field}`}>{JSON.stringify(preview.value)}</output></>
          : <span class="error">Does not evaluate: {preview.error}</span>}
      </p>
    </fieldset>
  );
}

function candidate(form: SettingsForm, editors: Record<string, Editor>) {
  const tls: Record<string, unknown> = { ...form.values.TlsReportSettings };
  const rep: Record<string, unknown> = { ...form.values.ReportSettings };
  for (const f of form.fields) (f.singleton === 'TlsReportSettings' ? tls : rep)[f.field] = fromEditor(editors[key(f)]);
  return { TlsReportSettings: tls, ReportSettings: rep };
}

function Editors({ form, reload }: { form: SettingsForm; reload: () => void }) {
  const [editors, setEditors] = useState<Record<string, Editor>>(() => Object.fromEntries(form.fields.map((f) => [key(f), toEditor(f.value)])));
  const [rcptDomain, setRcptDomain] = useState('example.org');
  const [preview, setPreview] = useState<Preview>();
  const [saveMsg, setSaveMsg] = useState<{ ok: boolean; text: string }>();
  const [dirty, setDirty] = useState(false);
  const seq = useRef(0);
  // Validation as you type: 250 ms after the last keystroke, the API compiles and evaluates.
  useEffect(() => {
    const n = ++seq.current;
    const t = setTimeout(() => {
      api<Preview>('/api/v1/settings/preview', { method: 'POST', body: { rcptDomain, ...candidate(form, editors) } })
        .then((p) => n === seq.current && setPreview(p), () => {});
    }, 250);
    return () => clearTimeout(t);
  }, [editors, rcptDomain]);
  const errors = preview?.errors ?? [];
  const save = async (e: Event) => {
    e.preventDefault();
    setSaveMsg(undefined);
    const c = candidate(form, editors);
    try {
      for (const name of ['TlsReportSettings', 'ReportSettings'] as const) {
        if (JSON.stringify(c[name]) === JSON.stringify(form.values[name])) continue;
        await api(`/api/v1/settings/${name}`, { method: 'PUT', body: c[name] });
      }
      setSaveMsg({ ok: true, text: 'Saved. The new settings are in force now (no restart needed).' });
      setDirty(false);
      reload();
    } catch (err) {
      const body = err instanceof ApiError ? err.body : {};
      const pos = typeof body.position === 'number' ? ` (at position ${body.position})` : '';
      setSaveMsg({ ok: false, text: `Not saved: ${(err as Error).message}${pos}` });
    }
  };
  return (
    <form onSubmit={save} aria-label="TLS report settings">
      <div class="preview-domain">
        <label for="rcpt">Preview for recipient domain</label>
        <input id="rcpt" value={rcptDomain} onInput={(e) => setRcptDomain((e.target as HTMLInputElement).value)} />
        <p class="muted">For recipient domain <strong>{preview?.rcptDomain ?? rcptDomain}</strong> each field below shows what it evaluates to.</p>
      </div>
      {form.fields.map((f) => (
        <FieldEditor key={key(f)} f={f} editor={editors[key(f)]} errors={errors} preview={preview?.fields[f.field]}
          set={(ed) => {
            setEditors({ ...editors, [key(f)]: ed });
            setDirty(true);
          }} />
      ))}
      <div class="save-row">
        <button type="submit" class="primary" disabled={errors.length > 0}>Save</button>
        {errors.length > 0 && <span class="error"> {errors.length} error{errors.length === 1 ? '' : 's'}: fix {errors.length === 1 ? 'it' : 'them'} to save.</span>}
        {dirty && !saveMsg && <span class="muted"> Unsaved changes.</span>}
        {saveMsg && <p role="status" class={saveMsg.ok ? 'ok' : 'error'}>{saveMsg.text}</p>}
      </div>
    </form>
  );
}

export function SettingsPage() {
  const loaded = useApi<SettingsForm>('/api/v1/ui/settings');
  return (
    <>
      <h1>Settings › TLS reports</h1>
      <p class="muted">Expressions as in Stalwart (Settings › MTA › Reports › TLS). Strings are quoted: <code>'TLS Reports'</code>.</p>
      <Status loaded={loaded}>{(form) => <Editors form={form} reload={loaded.reload} />}</Status>
    </>
  );
}
