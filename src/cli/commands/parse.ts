/**
 * @module cli/commands/parse — `tlsrpt parse FILE…`: reads TLS reports (.json, .json.gz, .zip,
 * or whole e-mails; detected by sniffing, whatever the name) without storing them, and prints
 * one JSON line per file. Exit 0 when every file held a TLS report, 1 otherwise, 2 on usage errors.
 */
import { CommanderError, type Command } from 'commander';
import { withJson } from '../options.js';

/** One output line: what a file held, or why it held no report. */
export type ParseLine =
  | { file: string; ok: true; report: unknown; reports: unknown[]; findings: unknown[]; email?: Record<string, string> }
  | { file: string; ok: false; error: { code: string; message: string } };

/** Commander reports usage mistakes with exit 1; this CLI's convention is 2 (STYLE: 2 = usage). */
function usageErrorsExit2(cmd: Command): Command {
  return cmd.exitOverride((err) => {
    throw err.exitCode === 0 ? err : new CommanderError(2, err.code, err.message);
  });
}

export function register(program: Command): void {
  usageErrorsExit2(withJson(program.command('parse')))
    .argument('[files...]', 'report files: .json, .json.gz, .zip, .eml (sniffed, any name)')
    .description('read TLS reports without storing them; one JSON line per file: {"file","ok","report","reports","findings"} or {"file","ok":false,"error"}')
    .action(async (files: string[]) => {
      if (!files.length) {
        process.stderr.write('tlsrpt parse: name at least one report file (.json, .json.gz, .zip or .eml)\n');
        process.exitCode = 2;
        return;
      }
      let allOk = true;
      for (const file of files) {
        const line = await parseFile(file);
        if (!line.ok) allOk = false;
        process.stdout.write(JSON.stringify(line) + '\n');
      }
      process.exitCode = allOk ? 0 : 1;
    });
}

/**
 * Extracts and parses every report in one file. Never throws: a file that cannot be read or
 * holds no report becomes `{ ok: false, error }`.
 */
export async function parseFile(file: string): Promise<ParseLine> {
  const { stat, readFile } = await import('node:fs/promises');
  const { extractReports, ExtractError, DEFAULT_LIMITS } = await import('../../receiving/extract/index.js');
  const { parseReport, ReportError } = await import('../../rfc8460/index.js');
  const fail = (code: string, message: string): ParseLine => ({ file, ok: false, error: { code, message } });
  let bytes: Buffer;
  try {
    const st = await stat(file);
    if (st.isDirectory()) return fail('unreadable', `${file} is a directory; name the report files in it`);
    // Refuse before reading: a huge file must not be loaded just to be rejected.
    if (st.size > DEFAULT_LIMITS.maxInputBytes) return fail('too-large', `the file has ${st.size} bytes, more than the limit of ${DEFAULT_LIMITS.maxInputBytes}`);
    bytes = await readFile(file);
  } catch (e) {
    return fail('unreadable', `cannot read ${file}: ${(e as Error).message}`);
  }
  let extracted;
  try {
    extracted = await extractReports(bytes);
  } catch (e) {
    if (e instanceof ExtractError) return fail(e.code, e.message);
    return fail('extract-failed', (e as Error).message);
  }
  const { payloads, message } = extracted;
  const reports: unknown[] = [];
  const findings: unknown[] = [];
  let firstError: { code: string; message: string } | undefined;
  const rejected: { source: string; code: string; message: string }[] = [];
  for (const p of payloads) {
    try {
      const parsed = parseReport(p.bytes, message.tlsReportDomain ? { policyDomainHint: message.tlsReportDomain } : undefined);
      const index = reports.length;
      reports.push(parsed.report);
      for (const f of parsed.findings) findings.push(payloads.length > 1 ? { ...f, report: index } : f);
    } catch (e) {
      const code = e instanceof ReportError ? e.code : 'parse-failed';
      const msg = `${p.source}: ${(e as Error).message}`;
      firstError ??= { code, message: msg };
      rejected.push({ source: p.source, code, message: msg });
    }
  }
  if (reports.length === 0) return { file, ok: false, error: firstError ?? { code: 'not-a-tls-report', message: 'no TLS report found' } };
  for (const r of rejected) findings.push({ code: 'payload-rejected', message: `${r.message} (${r.code})` });
  const line: ParseLine = { file, ok: true, report: reports[0], reports, findings };
  if (message.isEmail) {
    const email: Record<string, string> = {};
    for (const k of ['from', 'subject', 'messageId', 'date', 'tlsReportDomain', 'tlsReportSubmitter'] as const) {
      const v = message[k];
      if (v) email[k] = v;
    }
    line.email = email;
  }
  return line;
}
