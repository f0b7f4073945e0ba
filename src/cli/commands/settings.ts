/**
 * @module cli/commands/settings — `tlsrpt settings show | validate FILE | set NAME FIELD EXPR |
 * rotate-token`: the settings singletons in force and where each field came from (default, file,
 * stored); a check of a config file with every error (field, position, message); a validated
 * change of one field in the store (running services pick it up within seconds).
 * Exit codes: 0 ok, 1 invalid settings, 2 usage or config error.
 */
import { CommanderError, type Command } from 'commander';
import { configFrom, openConfiguredStore, withConfig, withJson, type CommonOptions } from '../options.js';

interface SetOptions extends CommonOptions {
  default?: boolean;
}

function usageErrorsExit2(cmd: Command): Command {
  return cmd.exitOverride((err) => {
    throw err.exitCode === 0 ? err : new CommanderError(2, err.code, err.message);
  });
}

const fail = (msg: string, code: number) => {
  process.stderr.write(`tlsrpt settings: ${msg}\n`);
  process.exitCode = code;
};

/** A setting value for people: `{"else": X}` shows X; other forms as compact JSON. */
function shortValue(v: unknown): string {
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    const keys = Object.keys(v);
    if (keys.length === 1 && keys[0] === 'else') return String((v as { else: unknown }).else);
  }
  return typeof v === 'string' ? v : JSON.stringify(v);
}

async function withStore<T>(opts: CommonOptions, mode: 'read' | 'write', fn: (store: import('../../store/index.js').Store, config: import('../../settings/config.js').ServiceConfig) => Promise<T>): Promise<T> {
  const { config } = configFrom(opts);
  const store = await openConfiguredStore(opts, mode, config);
  try {
    return await fn(store, config);
  } finally {
    await store.close();
  }
}

export function register(program: Command): void {
  const settings = usageErrorsExit2(program.command('settings'))
    .description('show, check and change the settings singletons (TlsReportSettings, ReportSettings, SystemSettings)');

  usageErrorsExit2(withJson(withConfig(settings.command('show'))))
    .description('print the settings in force, field by field, with where each value came from (default, file, stored); a field the config file sets is locked')
    .action(async (opts: CommonOptions) => {
      const { loadSettingsState, describeSettings } = await import('../../settings/index.js');
      const shown = await withStore(opts, 'read', async (store, config) => describeSettings(await loadSettingsState(store, config)));
      // Unset, these two follow RFC 8460 instead of their seed defaults (sending/report/settings-view).
      const rfcForms: [typeof shown[keyof typeof shown], string, string][] = [
        [shown.TlsReportSettings, 'subject', 'RFC 8460 §5.3 form "Report Domain: <domain> Submitter: <submitter> Report-ID: <<report-id>>"'],
        [shown.ReportSettings, 'outboundReportSubmitter', 'the domain of contact-info (RFC 8460 §5.1)'],
      ];
      for (const [s, field, form] of rfcForms) {
        const f = s.fields[field] as { value: unknown; source: string; inForce?: string };
        f.inForce = f.source === 'default' ? `unset: ${form}` : 'the operator\'s expression';
      }
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(shown)}\n`);
        return;
      }
      for (const s of Object.values(shown)) {
        process.stdout.write(`${s.name} (${s.origin}${s.version !== undefined ? `, version ${s.version}` : ''})\n`);
        const width = Math.max(...Object.keys(s.fields).map((f) => f.length));
        for (const [field, { value, source, locked, inForce }] of Object.entries(s.fields) as [string, { value: unknown; source: string; locked?: boolean; inForce?: string }][]) {
          const shownValue = inForce?.startsWith('unset') ? `(${inForce})` : shortValue(value);
          process.stdout.write(`  ${field.padEnd(width)}  ${shownValue}  [${source}${locked ? ', locked: change it in the config file' : ''}]\n`);
        }
      }
    });

  usageErrorsExit2(withJson(settings.command('validate')))
    .argument('[file]', 'a config file (tlsrpt.json) or a JSON object with the singletons; default: the config `tlsrpt config path` names')
    .description('check a config file: every key of every section, the settings expressions (field and position), that key and certificate files exist and are readable, and that report mail can be signed; exit 0 valid, 1 invalid')
    .action(async (given: string | undefined, opts: CommonOptions) => {
      const { validateConfigFile } = await import('../../settings/validate-file.js');
      const { formatSettingError } = await import('../../settings/validate.js');
      const { lookupConfig } = await import('../../settings/config.js');
      const file = given ?? lookupConfig().file;
      if (!file) return fail('no config file given or found (see `tlsrpt config path`)', 2);
      const r = validateConfigFile(file);
      if (r.unreadable) return fail(r.unreadable, 2);
      const errors = r.errors;
      if (opts.json) process.stdout.write(`${JSON.stringify({ file, ok: errors.length === 0, errors })}\n`);
      else if (errors.length === 0) process.stdout.write(`${file}: valid\n`);
      else for (const e of errors) process.stderr.write(`${file}: ${formatSettingError(e)}\n`);
      if (errors.length) process.exitCode = 1;
    });

  usageErrorsExit2(withJson(withConfig(settings.command('set'))))
    .argument('<name>', 'TlsReportSettings, ReportSettings or SystemSettings')
    .argument('<field>', 'e.g. sendFrequency')
    .argument('[expr]', "an expression (stored as {\"else\": EXPR}), or a whole setting value in JSON ({\"match\": [...], \"else\": ...}); SystemSettings take plain text")
    .option('--default', 'put the field back to its default')
    .description('validate and store one field; running services pick the change up within seconds')
    .action(async (name: string, field: string, expr: string | undefined, opts: SetOptions) => {
      const { FIELDS, isSingletonName, SINGLETONS } = await import('../../settings/fields.js');
      const { setSettingField } = await import('../../settings/index.js');
      const { formatSettingError } = await import('../../settings/validate.js');
      if (!isSingletonName(name)) return fail(`no settings named ${name}: expected one of ${SINGLETONS.join(', ')}`, 2);
      const spec = FIELDS[name][field];
      if (!spec) return fail(`${name} has no field ${field}: it has ${Object.keys(FIELDS[name]).join(', ')}`, 2);
      if ((expr === undefined) === !opts.default) return fail('give either an EXPR or --default', 2);
      let value: unknown = null;
      if (expr !== undefined) {
        const trimmed = expr.trim();
        if (trimmed.startsWith('{') || (spec.form === 'list' && trimmed.startsWith('[') && trimmed.includes('"'))) {
          try {
            value = JSON.parse(trimmed);
          } catch (e) {
            return fail(`EXPR looks like JSON but does not parse: ${(e as Error).message}`, 2);
          }
        } else {
          value = spec.form === 'plain' ? expr : { else: expr };
        }
      }
      const r = await withStore(opts, 'write', (store, config) => setSettingField(store, config, name, field, value));
      if (opts.json) process.stdout.write(`${JSON.stringify(r)}\n`);
      if (!r.ok) {
        if (!opts.json) for (const e of r.errors) process.stderr.write(`tlsrpt settings: ${formatSettingError(e)}\n`);
        process.exitCode = 1;
        return;
      }
      if (!opts.json) process.stdout.write(`${name}.${field} ${value === null ? 'reset to its default' : 'stored'} (version ${r.version}); running services apply it within a few seconds\n`);
    });

  usageErrorsExit2(withConfig(settings.command('rotate-token')))
    .description('replace the admin API token with a new one and print it once (running services switch within 10 seconds)')
    .action(async (opts: CommonOptions) => {
      const { rotateAdminToken } = await import('../../settings/admin-token.js');
      const token = await withStore(opts, 'write', (store) => rotateAdminToken(store));
      process.stdout.write(`${token}\n`);
      process.stderr.write('tlsrpt settings: new admin token printed above (only its hash is stored); running services accept it within 10 seconds; http.token in the config, when set, still takes precedence\n');
    });
}
