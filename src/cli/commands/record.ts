/**
 * @module cli/commands/record — `tlsrpt record DOMAIN | --txt "v=TLSRPTv1; …"`: looks up or
 * parses a TLSRPT policy record (RFC 8460 §3) and prints the usable rua targets, the ignored
 * URIs with reasons, or why the policy is unusable. Exit 0 usable, 1 unusable, 2 usage error.
 */
import { CommanderError, type Command } from 'commander';
import { configFrom, withConfig, withJson, type CommonOptions } from '../options.js';

interface RecordOptions extends CommonOptions {
  txt?: string;
  dns?: string[];
  timeout?: string;
}

/** Commander reports usage mistakes with exit 1; this CLI's convention is 2. */
function usageErrorsExit2(cmd: Command): Command {
  return cmd.exitOverride((err) => {
    throw err.exitCode === 0 ? err : new CommanderError(2, err.code, err.message);
  });
}

const usage = (msg: string) => {
  process.stderr.write(`tlsrpt record: ${msg}\n`);
  process.exitCode = 2;
};

export function register(program: Command): void {
  usageErrorsExit2(withJson(withConfig(program.command('record'))))
    .argument('[domain]', 'policy domain: looks up the TXT record at _smtp._tls.DOMAIN')
    .option('--txt <record>', 'parse this record text instead of looking one up')
    .option('--dns <host:port>', 'DNS server to ask (repeatable; default: dns.servers of the config, else the system resolvers)', (v: string, acc: string[] = []) => [...acc, v])
    .option('--timeout <ms>', 'per-query DNS timeout in milliseconds', '3000')
    .description('show the usable rua targets of a TLSRPT record (looked up, or given with --txt), or why it is unusable')
    .action(async (domain: string | undefined, opts: RecordOptions) => {
      if ((domain === undefined) === (opts.txt === undefined)) return usage('give either a DOMAIN or --txt "v=TLSRPTv1; rua=…", not both or neither');
      const rfc = await import('../../rfc8460/index.js');
      type Shown = Awaited<ReturnType<typeof rfc.parseTlsrptRecord>> & { name?: string; record?: string };
      let shown: Shown;
      if (opts.txt !== undefined) {
        shown = { ...rfc.parseTlsrptRecord(opts.txt), record: opts.txt };
      } else {
        const dns = await import('../../dns/index.js');
        const { domainToASCII } = await import('node:url');
        // IDNs are looked up by their A-labels (RFC 8460 §4.4: policy-domain in A-labels).
        const name = domainToASCII(dns.normalizeName(domain!)) || dns.normalizeName(domain!);
        if (!dns.isValidDnsName(`_smtp._tls.${name}`)) return usage(`${JSON.stringify(domain)} is not a domain name`);
        let servers: string[] | undefined = opts.dns;
        if (!servers?.length) servers = configFrom(opts).config.dns?.servers;
        const timeoutMs = Number(opts.timeout);
        if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) return usage('--timeout must be a positive number of milliseconds');
        let resolver;
        try {
          resolver = dns.createResolver({ servers, timeoutMs });
        } catch (e) {
          return usage((e as Error).message);
        }
        try {
          shown = await dns.lookupTlsrptRecord(name, resolver);
        } catch (e) {
          const msg = `DNS lookup of _smtp._tls.${name} failed: ${(e as Error).message}. Try again, or ask another server with --dns HOST:PORT.`;
          if (opts.json) process.stdout.write(JSON.stringify({ domain: name, ok: false, error: { code: (e as { code?: string }).code ?? 'dns-error', message: msg } }) + '\n');
          else process.stderr.write(`tlsrpt record: ${msg}\n`);
          process.exitCode = 1;
          return;
        }
      }
      process.stdout.write(opts.json ? JSON.stringify({ ...(domain !== undefined ? { domain } : {}), ...shown }) + '\n' : describe(shown));
      process.exitCode = shown.ok ? 0 : 1;
    });
}

type Described = { ok: true; rua: { uri: string }[]; ignored: { uri: string; reason: string }[]; extensions: Record<string, string>; name?: string; record?: string }
  | { ok: false; reason: string; name?: string; record?: string };

/** The human-readable form: where the record came from, then the verdict. */
function describe(r: Described): string {
  const lines: string[] = [];
  if (r.name) lines.push(`${r.name}: ${r.record !== undefined ? JSON.stringify(r.record) : '(no usable record)'}`);
  else if (r.record !== undefined) lines.push(`record: ${JSON.stringify(r.record)}`);
  if (!r.ok) {
    lines.push(`unusable: ${r.reason}`);
  } else {
    lines.push('usable rua targets:', ...r.rua.map((t) => `  ${t.uri}`));
    if (r.ignored.length) lines.push('ignored:', ...r.ignored.map((i) => `  ${i.uri} (${i.reason})`));
    const ext = Object.entries(r.extensions);
    if (ext.length) lines.push(`extensions (ignored, RFC 8460 §3): ${ext.map(([k, v]) => `${k}=${v}`).join(' ')}`);
  }
  return lines.join('\n') + '\n';
}
