/**
 * @module cli/commands/check — `tlsrpt check DOMAIN`: diagnoses a domain's TLSRPT record,
 * MTA-STS record and policy, MX STARTTLS and certificates, and TLSA (see src/check). Text with
 * ✔/✘ and a hint per failure, or `--json` (one document); exit 1 on any failure, 2 on a usage error.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { configFrom, withConfig, withJson, type CommonOptions } from '../options.js';

interface CheckOptions extends CommonOptions {
  dns?: string[];
  timeout: string;
  smtpPort: string;
  httpsPort: string;
  ca?: string[];
}

const usage = (msg: string): never => {
  process.stderr.write(`tlsrpt check: ${msg}\n`);
  process.exit(2);
};

const port = (name: string, text: string) => {
  const n = Number(text);
  return Number.isInteger(n) && n > 0 && n < 65536 ? n : usage(`${name} must be a port number, got ${JSON.stringify(text)}`);
};

export function register(program: Command): void {
  withJson(withConfig(program.command('check')))
    .argument('<domain>', 'the domain to diagnose (a recipient domain: its MX hosts receive the mail)')
    .description('diagnose a domain: TLSRPT record, MTA-STS record and policy, every MX (STARTTLS, certificate, policy match) and TLSA; exit 1 on any failure')
    .option('--dns <host:port>', 'DNS server to ask (repeatable; default: dns.servers of the config, else the system resolvers)', (v: string, acc: string[] = []) => [...acc, v])
    .option('--timeout <ms>', 'per network operation, in milliseconds', '5000')
    .option('--smtp-port <port>', 'port of the MX hosts (RFC 5321: 25)', '25')
    .option('--https-port <port>', 'port of the MTA-STS policy host (RFC 8461 §3.3: 443)', '443')
    .option('--ca <file>', 'also trust this CA certificate (PEM; repeatable; default also delivery.extraCaFile of the config)', (v: string, acc: string[] = []) => [...acc, v])
    .action(async (domain: string, opts: CheckOptions) => {
      const { config } = configFrom(opts);
      const timeoutMs = Number(opts.timeout);
      if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) usage('--timeout must be a positive number of milliseconds');
      if (!/^[^\s/@:]+\.[^\s/@:]+\.?$/.test(domain.trim())) usage(`${JSON.stringify(domain)} is not a domain name`);
      const caFiles = [...(opts.ca ?? []), ...(config.delivery?.extraCaFile ? [config.delivery.extraCaFile] : [])];
      let ca: string[];
      try {
        ca = caFiles.map((f) => readFileSync(f, 'utf8'));
      } catch (e) {
        return usage(`cannot read a CA file: ${(e as Error).message}`);
      }
      const { createResolver } = await import('../../dns/resolver.js');
      const { checkDomain, renderCheck, tlsaOverUdp } = await import('../../check/index.js');
      const servers = opts.dns?.length ? opts.dns : config.dns?.servers;
      let resolver;
      try {
        resolver = createResolver({ servers, timeoutMs: Math.min(timeoutMs, 2000), attempts: 2 });
      } catch (e) {
        return usage((e as Error).message);
      }
      const { getServers } = await import('node:dns');
      const report = await checkDomain(domain, {
        resolver,
        tlsa: tlsaOverUdp(servers?.length ? servers : getServers(), Math.min(timeoutMs, 2000)),
        ports: { smtp: port('--smtp-port', opts.smtpPort), https: port('--https-port', opts.httpsPort) },
        ca,
        timeoutMs,
      });
      process.stdout.write(opts.json ? JSON.stringify(report) + '\n' : renderCheck(report));
      process.exitCode = report.ok ? 0 : 1;
    });
}
