/**
 * @module cli/commands/expr — `tlsrpt expr 'EXPR' [--var name=value]… [--field NAME] [--json]`:
 * evaluates a settings expression and prints the value (text plain, lists as JSON; `--json`
 * prints JSON always). A parse error goes to stderr with a caret under its position; exit 1.
 * `system('domain')`/`system('hostname')` answer from the config file's SystemSettings, else
 * the machine's host name.
 */
import { CommanderError, type Command } from 'commander';
import { configFrom, withConfig, withJson, type CommonOptions } from '../options.js';
import { normalizeDomain } from '../../common/domain.js';

interface ExprOptions extends CommonOptions {
  var?: string[];
  field?: string;
}

const collect = (v: string, acc: string[] = []) => [...acc, v];

function usage(msg: string): void {
  process.stderr.write(`tlsrpt expr: ${msg}\n`);
  process.exitCode = 2;
}

/** The expression with a caret under the offending character (for one-line expressions). */
export function pointAt(source: string, position: number): string {
  if (source.includes('\n') || source.length > 200) return '';
  return `  ${source}\n  ${' '.repeat(Math.max(0, Math.min(position, source.length)))}^\n`;
}

export function register(program: Command): void {
  withJson(withConfig(program.command('expr')))
    .argument('<expression>', "an expression, e.g. \"'noreply-tls@' + system('domain')\" (put -- before one starting with -)")
    .option('--var <name=value>', 'a variable of the evaluation (repeatable), e.g. --var rcpt_domain=example.com', collect)
    .option('--field <name>', "check names against one field's context, e.g. sendFrequency or TlsReportSettings.subject")
    .description('evaluate a settings expression and print its value')
    .exitOverride((err) => {
      throw err.exitCode === 0 ? err : new CommanderError(2, err.code, err.message);
    })
    .action(async (source: string, opts: ExprOptions) => {
      const { compileExpression, display, ExprError } = await import('../../expr/index.js');
      const { FIELDS, FREQUENCY_CONSTANTS } = await import('../../settings/fields.js');
      const { buildSnapshot } = await import('../../settings/snapshot.js');
      const { machineSystemDefaults } = await import('../../settings/system.js');
      const { silentLog } = await import('../../common/log.js');

      const vars: Record<string, string> = {};
      for (const v of opts.var ?? []) {
        const eq = v.indexOf('=');
        const name = eq > 0 ? v.slice(0, eq) : '';
        if (!/^[A-Za-z_$][A-Za-z0-9_$.]*$/.test(name)) return usage(`--var ${JSON.stringify(v)}: expected NAME=VALUE`);
        vars[name] = v.slice(eq + 1);
      }

      let variables: string[];
      let constants: Record<string, string | number> | undefined;
      if (opts.field) {
        const [single, field] = opts.field.includes('.') ? opts.field.split('.', 2) : [undefined, opts.field];
        const spec = Object.entries(FIELDS).filter(([name]) => !single || name === single).map(([, fields]) => fields[field]).find(Boolean);
        if (!spec) return usage(`no field ${opts.field}; fields: ${Object.entries(FIELDS).flatMap(([n, f]) => Object.keys(f).map((k) => `${n}.${k}`)).join(', ')}`);
        variables = [...spec.variables];
        constants = spec.constants as Record<string, string> | undefined;
      } else {
        // Every variable any report setting knows, plus the frequency constants.
        variables = [...new Set(Object.values(FIELDS).flatMap((fields) => Object.values(fields).flatMap((f) => f.variables)))];
        constants = { ...(FREQUENCY_CONSTANTS as Record<string, string>) };
      }
      for (const name of Object.keys(vars)) if (!variables.includes(name)) variables.push(name);

      const { config } = configFrom(opts);
      const system = buildSnapshot({ SystemSettings: config.SystemSettings }, { log: silentLog, nodeId: machineSystemDefaults().hostname, machine: machineSystemDefaults() }).system();
      const localDomains = new Set([system.domain, ...(config.dkim ?? []).map((d) => d.domain)].map((d) => d.toLowerCase()));
      const host = {
        system: (n: string) => (n === 'domain' ? system.domain : n === 'hostname' ? system.hostname : n === 'node_id' ? machineSystemDefaults().hostname : ''),
        isLocalDomain: (d: string) => localDomains.has(normalizeDomain(d)),
      };

      let value;
      try {
        value = compileExpression(source, { variables, constants, host }).evaluate(vars);
      } catch (e) {
        if (!(e instanceof ExprError)) throw e;
        process.stderr.write(`tlsrpt expr: ${e.message}\n${pointAt(source, e.position)}`);
        process.exitCode = 1;
        return;
      }
      process.stdout.write(`${opts.json ? JSON.stringify(value) : display(value)}\n`);
    });
}
