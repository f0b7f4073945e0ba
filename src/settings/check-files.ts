/**
 * @module settings/check-files — what `settings validate` checks beyond the shape of the file:
 * every file the config names (keys, certificates, CA files) exists, is readable and holds what
 * it should, and the signing setup is complete — with a relay configured, a DKIM key for the
 * `dkimSignDomain` in force must be there (RFC 8460 §3: report mail is DKIM-signed).
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { declaredPaths, type ServiceConfig } from './config.js';
import { buildSnapshot } from './snapshot.js';
import { machineSystemDefaults } from './system.js';
import type { SettingError } from './validate.js';

/** What the content of a named file must be, by its key. */
function contentProblem(field: string, file: string): string | undefined {
  const text = readFileSync(file, 'utf8');
  if (/privateKeyFile$|\.key$/.test(field)) {
    try {
      createPrivateKey(text);
    } catch (e) {
      return `${file} is not a PEM private key (${(e as Error).message})`;
    }
  } else if (/\.cert$|caFile$|extraCaFile$/.test(field)) {
    try {
      new X509Certificate(text);
    } catch (e) {
      return `${file} is not a PEM certificate (${(e as Error).message})`;
    }
  }
  return undefined;
}

/** Files the config reads: each must exist, be readable and hold a key or certificate as its key says. */
export function checkConfigFiles(config: ServiceConfig): SettingError[] {
  const errors: SettingError[] = [];
  for (const { field, file, created } of declaredPaths(config)) {
    if (created) {
      // Made at start (database, socket, dump folder): its folder must be there or creatable.
      const dir = path.dirname(file);
      let parent = dir;
      while (!safeExists(parent) && path.dirname(parent) !== parent) parent = path.dirname(parent);
      try {
        accessSync(parent, constants.W_OK);
      } catch {
        if (!safeExists(file)) errors.push({ field, message: `cannot create ${file}: ${parent} is not writable by this user` });
      }
      continue;
    }
    try {
      accessSync(file, constants.R_OK);
      if (statSync(file).isDirectory()) {
        errors.push({ field, message: `${file} is a folder, expected a file` });
        continue;
      }
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      errors.push({ field, message: code === 'ENOENT' ? `${file} does not exist` : `cannot read ${file} (${code ?? (e as Error).message})` });
      continue;
    }
    const problem = contentProblem(field, file);
    if (problem) errors.push({ field, message: problem });
  }
  return errors;
}

function safeExists(p: string): boolean {
  try {
    statSync(p);
    return true;
  } catch {
    return false;
  }
}

/**
 * With a relay (report mail is ours to send), a DKIM key must exist for the domain
 * `dkimSignDomain` gives (evaluated for a sample recipient domain; its default is
 * `system('domain')`).
 */
export function checkSigningSetup(config: ServiceConfig, sampleDomain = 'example.net'): SettingError[] {
  if (!config.relay) return [];
  const keys = (config.dkim ?? []).map((k) => k.domain.toLowerCase().replace(/\.$/, ''));
  const silent = { warn() {}, error() {}, info() {}, debug() {}, child() { return silent; } } as unknown as Parameters<typeof buildSnapshot>[1]['log'];
  const snapshot = buildSnapshot(
    { TlsReportSettings: config.TlsReportSettings, ReportSettings: config.ReportSettings, SystemSettings: config.SystemSettings },
    { log: silent, nodeId: 'validate', machine: machineSystemDefaults(), localDomains: keys },
  );
  const domain = snapshot.tlsReport({ rcptDomain: sampleDomain }).dkimSignDomain.toLowerCase().replace(/\.$/, '');
  if (keys.length === 0) {
    return [{ field: 'dkim', message: `"relay" is set, so reports go out by mail, but "dkim" has no key: report mail must be DKIM-signed (RFC 8460 §3); add {"domain": "${domain}", "selector": …, "privateKeyFile": …}` }];
  }
  if (!keys.includes(domain)) {
    return [{
      field: 'TlsReportSettings.dkimSignDomain',
      message: `report mail is signed for ${domain}${config.TlsReportSettings?.dkimSignDomain === undefined ? " (the default, system('domain'))" : ''}, but "dkim" has keys only for ${keys.join(', ')}: add a key for ${domain} or set dkimSignDomain to one of them`,
    }];
  }
  return [];
}
