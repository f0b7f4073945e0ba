/**
 * @module test/settings/config — the config file without traps: every section strict (unknown
 * keys name the nearest real one, missing keys say what they are for), relative paths against
 * the file's folder, the lookup order, JSON syntax errors with line and column, Stalwart ≤ 0.15
 * keys explained, and the file and signing checks of `settings validate`.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { configIssues, ConfigError, loadConfig, lookupConfig, ServiceConfig } from '../../src/settings/config.js';
import { SECTIONS } from '../../src/settings/sections/index.js';
import { parseJsonText, JsonSyntaxError } from '../../src/settings/json-text.js';
import { checkConfigFiles, checkSigningSetup } from '../../src/settings/check-files.js';
import { validateConfigFile } from '../../src/settings/validate-file.js';
import { validateSettingsDocument } from '../../src/settings/validate.js';

const dir = mkdtempSync(path.join(tmpdir(), 'tlsrpt-config-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const messageOf = (doc: Record<string, unknown>, field: string) => {
  const hit = configIssues(doc).find((i) => i.field === field);
  assert.ok(hit, `no issue for ${field} in ${JSON.stringify(configIssues(doc))}`);
  return hit.message;
};

/** A minimal valid value of each service section. */
const MINIMAL: Record<string, unknown> = {
  store: { sqlite: 'x.db' }, http: {}, collector: {}, smtp: { listen: '127.0.0.1:25' }, imap: [{ host: 'h', user: 'u', password: 'p' }],
  relay: { host: 'smtp.example.org' }, dkim: [{ domain: 'example.org', selector: 's', privateKeyFile: 'k.pem' }], dns: {}, delivery: {},
  receiving: {}, retention: {}, cluster: {}, alerts: {}, log: {}, metrics: { listen: '127.0.0.1:9464' },
};

describe('every section is strict', () => {
  it('names the nearest real key for the typos users make', () => {
    assert.match(messageOf({ http: { tokn: 'x' } }, 'http.tokn'), /unknown key \(did you mean "token"\?\); http has listen, token/);
    assert.match(messageOf({ delivery: { spreadSecond: 60 } }, 'delivery.spreadSecond'), /did you mean "spreadSeconds"/);
    assert.match(messageOf({ collector: { sockt: '/run/x.sock' } }, 'collector.sockt'), /did you mean "socket"/);
    assert.match(messageOf({ receiving: { policydomains: [] } }, 'receiving.policydomains'), /did you mean "policyDomains"/);
    assert.match(messageOf({ http: { tls: { cert: 'c', key: 'k', chain: 'x' } } }, 'http.tls.chain'), /unknown key; http\.tls has cert, key/);
    assert.match(messageOf({ colector: {} }, 'colector'), /unknown section \(did you mean "collector"\?\)/);
  });
  it('refuses an unknown key in every section (and every element of a list section)', () => {
    const services = Object.keys(SECTIONS).filter((s) => !/Settings$/.test(s));
    assert.deepEqual(services.sort(), Object.keys(MINIMAL).sort(), 'a new section needs a minimal value here');
    for (const name of services) {
      const valid = MINIMAL[name];
      assert.deepEqual(configIssues({ [name]: valid }), [], name);
      const bad = Array.isArray(valid) ? [{ ...(valid[0] as object), zzz: 1 }] : { ...(valid as object), zzz: 1 };
      const field = Array.isArray(valid) ? `${name}[0].zzz` : `${name}.zzz`;
      assert.match(messageOf({ [name]: bad }, field), /^unknown key/, name);
    }
  });
  it('says in words what a missing key is and what a wrong value was', () => {
    assert.match(messageOf({ relay: { port: 587 } }, 'relay.host'), /^missing: this key is required — the relay, e\.g\. smtp\.example\.org/);
    assert.match(messageOf({ smtp: { lmtp: true } }, 'smtp.listen'), /^missing: .*address of the SMTP\/LMTP listener/);
    assert.match(messageOf({ imap: [{ host: 'h', user: 'u' }] }, 'imap[0].password'), /^missing/);
    assert.equal(messageOf({ relay: { host: 'h', port: '587' } }, 'relay.port'), 'expected a number, found the string "587"');
    assert.match(messageOf({ receiving: { dkim: 'rejct' } }, 'receiving.dkim'), /did you mean "reject"\?\); expected one of "flag", "reject"/);
    assert.match(messageOf({ store: { sqlite: 'a', postgres: 'postgres://h/db' } }, 'store'), /exactly one of "sqlite"/);
    assert.match(messageOf({ dkim: [{ domain: 'd', selector: 's' }] }, 'dkim[0]'), /privateKeyFile.*exactly one/);
    for (const issue of configIssues({ relay: {}, http: { listen: 5 }, retention: { inboundDays: 0 } })) {
      assert.doesNotMatch(issue.message, /Invalid input|received undefined|Too small/, 'no raw validator output');
    }
  });
  it('ignores _comment and $schema keys', () => {
    assert.deepEqual(configIssues({ _comment: 'x', $schema: 'y', http: { _note: 'z' } }), []);
  });
  it('explains Stalwart ≤ 0.15 keys instead of calling them unknown', () => {
    assert.match(messageOf({ 'report.tls.aggregate.send': 'daily' }, 'report.tls.aggregate.send'), /Stalwart ≤ 0\.15.*report\.tls\.aggregate\.send → TlsReportSettings\.sendFrequency/);
    assert.match(messageOf({ report: { tls: { aggregate: { 'org-name': 'x' } } } }, 'report'), /report\.tls\.aggregate\.org-name → TlsReportSettings\.orgName/);
    const inside = validateSettingsDocument({ TlsReportSettings: { 'from-name': { else: "'x'" } } });
    assert.match(inside[0]!.message, /did you mean "fromName"\?\) \(Stalwart ≤ 0\.15 called it from-name/);
  });
});

describe('loading', () => {
  it('resolves relative paths against the config file, environment paths against the working directory', () => {
    const sub = path.join(dir, 'etc');
    mkdirSync(sub, { recursive: true });
    const file = path.join(sub, 'tlsrpt.json');
    writeFileSync(file, JSON.stringify({
      store: { sqlite: 'data/t.db' }, http: { tls: { cert: 'c.pem', key: '/abs/k.pem' } }, collector: { socket: 'run/c.sock', dumpDir: 'dump' },
      dkim: [{ domain: 'example.org', selector: 's', privateKeyFile: 'keys/dkim.pem' }], delivery: { extraCaFile: 'ca.pem' }, relay: { host: 'h', caFile: 'relay-ca.pem' },
    }));
    const c = loadConfig(file, {});
    assert.deepEqual(c.store, { sqlite: path.join(sub, 'data/t.db') });
    assert.deepEqual(c.http.tls, { cert: path.join(sub, 'c.pem'), key: '/abs/k.pem' });
    assert.equal(c.collector?.socket, path.join(sub, 'run/c.sock'));
    assert.equal(c.collector?.dumpDir, path.join(sub, 'dump'));
    assert.equal(c.dkim?.[0]?.privateKeyFile, path.join(sub, 'keys/dkim.pem'));
    assert.equal(c.delivery?.extraCaFile, path.join(sub, 'ca.pem'));
    assert.equal(c.relay?.caFile, path.join(sub, 'relay-ca.pem'));
    const env = loadConfig(file, { TLSRPT_STORE: 'other.db' });
    assert.deepEqual(env.store, { sqlite: path.resolve('other.db') });
    assert.deepEqual(loadConfig(file, { TLSRPT_STORE: 'postgres://u@h/db' }).store, { postgres: 'postgres://u@h/db' });
    assert.deepEqual(ServiceConfig.parse({ store: { sqlite: ':memory:' } }).store, { sqlite: ':memory:' });
  });
  it('refuses an invalid file with every problem, each on its line', () => {
    const file = path.join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ http: { tokn: 'x' }, delivery: { spreadSecond: 1 } }));
    assert.throws(() => loadConfig(file, {}), (e: Error) => e instanceof ConfigError && /\n {2}http\.tokn: unknown key .*\n {2}delivery\.spreadSecond: unknown key/.test(e.message));
  });
  it('finds the config: --config, TLSRPT_CONFIG, ./tlsrpt.json, the system path, else defaults', () => {
    const cwd = path.join(dir, 'cwd');
    mkdirSync(cwd, { recursive: true });
    const system = path.join(dir, 'system.json');
    const none = { cwd, env: {}, systemPath: path.join(dir, 'no-such.json') };
    assert.deepEqual(lookupConfig(undefined, none), { source: 'defaults' });
    writeFileSync(system, '{}');
    assert.deepEqual(lookupConfig(undefined, { ...none, systemPath: system }), { file: system, source: '/etc/tlsrpt/tlsrpt.json' });
    writeFileSync(path.join(cwd, 'tlsrpt.json'), '{}');
    assert.deepEqual(lookupConfig(undefined, { ...none, systemPath: system }), { file: path.join(cwd, 'tlsrpt.json'), source: './tlsrpt.json' });
    const fromEnv = path.join(dir, 'env.json');
    writeFileSync(fromEnv, '{}');
    assert.deepEqual(lookupConfig(undefined, { ...none, env: { TLSRPT_CONFIG: fromEnv } }), { file: fromEnv, source: 'TLSRPT_CONFIG' });
    assert.deepEqual(lookupConfig(fromEnv, { ...none, env: { TLSRPT_CONFIG: system } }).source, '--config');
    assert.throws(() => lookupConfig('x.json', none), /config file .*x\.json \(from --config\) does not exist/);
    assert.throws(() => lookupConfig(undefined, { ...none, env: { TLSRPT_CONFIG: '/nope.json' } }), /from TLSRPT_CONFIG/);
  });
});

describe('JSON syntax errors give line and column', () => {
  const at = (text: string) => {
    try {
      parseJsonText(text);
    } catch (e) {
      assert.ok(e instanceof JsonSyntaxError);
      return e.message;
    }
    assert.fail(`parsed: ${text}`);
  };
  it('for the usual mistakes', () => {
    assert.match(at('{\n  "http": {"listen": "a"}\n  "store": {}\n}'), /^line 3, column 3: expected ',' or '}' after a value \(a missing comma\?\)/);
    assert.match(at('{"a": 1,\n}'), /^line 2, column 1: a comma before \} is not allowed/);
    assert.match(at("{'a': 1}"), /^line 1, column 2: expected a key in double quotes/);
    assert.match(at('{"a": "x'), /^line 1, column 9: a string is not closed/);
    assert.match(at('{"a": tru}'), /^line 1, column 7: expected a value/);
    assert.match(at('[1, 2,]'), /^line 1, column 7: a comma before \] is not allowed/);
    assert.match(at('{"a": 1} x'), /^line 1, column 10: expected the end of the text/);
    assert.deepEqual(parseJsonText('{"a": [1, {"b": null}]}'), { a: [1, { b: null }] });
  });
});

describe('settings validate: files and signing', () => {
  const pem = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  it('checks that named files exist and hold a key or certificate', () => {
    const sub = path.join(dir, 'files');
    mkdirSync(sub, { recursive: true });
    writeFileSync(path.join(sub, 'dkim.pem'), pem);
    writeFileSync(path.join(sub, 'not-a-key.pem'), 'hello');
    const config = loadConfig(undefined, {});
    const withFiles = ServiceConfig.parse({
      ...config,
      http: { ...config.http, tls: { cert: path.join(sub, 'missing.pem'), key: path.join(sub, 'dkim.pem') } },
      dkim: [{ domain: 'a.org', selector: 's', privateKeyFile: path.join(sub, 'not-a-key.pem') }, { domain: 'b.org', selector: 's', privateKeyFile: path.join(sub, 'dkim.pem') }],
      delivery: { extraCaFile: sub },
    });
    const errors = checkConfigFiles(withFiles);
    assert.deepEqual(errors.map((e) => e.field), ['http.tls.cert', 'dkim[0].privateKeyFile', 'delivery.extraCaFile']);
    assert.match(errors[0]!.message, /missing\.pem does not exist/);
    assert.match(errors[1]!.message, /not a PEM private key/);
    assert.match(errors[2]!.message, /is a folder/);
  });
  it('with a relay, wants a DKIM key for the dkimSignDomain in force', () => {
    const base = { relay: { host: 'smtp.example.org' }, SystemSettings: { domain: 'example.org', hostname: 'mx.example.org' } };
    assert.match(checkSigningSetup(ServiceConfig.parse(base))[0]!.message, /"dkim" has no key.*RFC 8460 §3/);
    const other = ServiceConfig.parse({ ...base, dkim: [{ domain: 'other.org', selector: 's', privateKey: pem }] });
    const e = checkSigningSetup(other);
    assert.equal(e[0]!.field, 'TlsReportSettings.dkimSignDomain');
    assert.match(e[0]!.message, /signed for example\.org \(the default, system\('domain'\)\), but "dkim" has keys only for other\.org/);
    assert.deepEqual(checkSigningSetup(ServiceConfig.parse({ ...base, dkim: [{ domain: 'Example.org.', selector: 's', privateKey: pem }] })), []);
    assert.deepEqual(checkSigningSetup(ServiceConfig.parse({ ...base, dkim: [{ domain: 'other.org', selector: 's', privateKey: pem }], TlsReportSettings: { dkimSignDomain: { else: "'other.org'" } } })), []);
    assert.deepEqual(checkSigningSetup(ServiceConfig.parse({ SystemSettings: base.SystemSettings })), [], 'no relay: nothing to sign yet');
  });
  it('validateConfigFile: JSON position, then shape, then files', () => {
    const file = path.join(dir, 'v.json');
    writeFileSync(file, '{\n "http": {"token": "x"\n}');
    const syntax = validateConfigFile(file);
    assert.equal(syntax.errors[0]!.line, 3);
    assert.match(syntax.errors[0]!.message, /line 3, column 2/);
    writeFileSync(file, JSON.stringify({ dkim: [{ domain: 'example.org', selector: 's', privateKeyFile: 'dkim.pem' }] }));
    assert.match(validateConfigFile(file).errors[0]!.message, new RegExp(`${path.join(dir, 'dkim.pem').replace(/[.]/g, '\\.')} does not exist`));
    writeFileSync(path.join(dir, 'dkim.pem'), pem);
    assert.deepEqual(validateConfigFile(file).errors, []);
  });
});
