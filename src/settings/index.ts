/**
 * @module settings/index — the settings singletons of the running service. They live in the store
 * (every node on one PostgreSQL database sees the same), are seeded from `tlsrpt.json` when the
 * store has none, change through the API and CLI, and take effect without a restart: a write
 * reloads at once, and every node polls the stored versions every few seconds.
 */
import { hostname as osHostname } from 'node:os';
import type { Logger } from '../common/log.js';
import type { Store } from '../store/index.js';
import { ConfigError, type ServiceConfig } from './config.js';
import { FIELDS, SINGLETONS, type SingletonName } from './fields.js';
import { buildSnapshot, type RawSettings, type SettingsService } from './snapshot.js';
import { readSettingsVersions, readStoredSettings, seedSingleton, writeSingleton } from './store.js';
import { machineSystemDefaults } from './system.js';
import { formatSettingError, validateSingleton, type SettingError } from './validate.js';

export type { SettingsService, TlsReportValues, TlsReportVars, RawSettings } from './snapshot.js';
export { buildSnapshot } from './snapshot.js';
export { FIELDS, SINGLETONS, isSingletonName, type Frequency, type SingletonName } from './fields.js';
export { validateSingleton, validateSettingsDocument, formatSettingError, type SettingError } from './validate.js';
export { machineSystemDefaults } from './system.js';

export type SettingsOrigin = 'default' | 'file' | 'stored';

/** The singletons in force and where each came from (without writing anything). */
export interface SettingsState {
  raw: RawSettings;
  origin: Record<SingletonName, SettingsOrigin>;
  versions: Partial<Record<SingletonName, number>>;
}

export interface EffectiveSingleton {
  name: SingletonName;
  origin: SettingsOrigin;
  version?: number;
  /** The object in force, exactly as given (`{}` when everything is default). */
  value: Record<string, unknown>;
  /** Every field: the value in force (the default's own form when unset) and where it came from. */
  fields: Record<string, { value: unknown; source: SettingsOrigin }>;
}

export type SetResult = { ok: true; version: number } | { ok: false; errors: SettingError[] };

/** What `openSettings` returns: the typed accessors plus reload, update and introspection. */
export interface SettingsHandle extends SettingsService {
  /** Re-reads the store now; true when something changed. */
  reload(): Promise<boolean>;
  /** Validates and stores a whole singleton (fields left out take their defaults); nothing is stored on error. */
  update(name: SingletonName, value: unknown): Promise<SetResult>;
  /** The singletons in force, field by field, with their sources. */
  effective(): Record<SingletonName, EffectiveSingleton>;
  /** Called after every reload that changed something. Returns an unsubscribe function. */
  onChange(listener: () => void): () => void;
  close(): void;
}

export interface OpenSettingsOptions {
  /** How often to look for changes made by other nodes (default 3000 ms). */
  pollMs?: number;
  /** This machine's host name (default `os.hostname()`): SystemSettings defaults and `system('node_id')`. */
  hostname?: string;
  now?: () => number;
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

/** Reads the singletons in force: stored ones, else the file's, else defaults. Writes nothing. */
export async function loadSettingsState(store: Store | undefined, config: ServiceConfig): Promise<SettingsState & { corrupt: string[] }> {
  const stored = store ? await readStoredSettings(store) : { rows: new Map(), corrupt: [] as string[] };
  const raw: RawSettings = {};
  const origin = {} as Record<SingletonName, SettingsOrigin>;
  const versions: Partial<Record<SingletonName, number>> = {};
  for (const name of SINGLETONS) {
    const row = stored.rows.get(name);
    const file = config[name] as Record<string, unknown> | undefined;
    if (row) {
      raw[name] = row.value;
      origin[name] = 'stored';
      versions[name] = row.version;
    } else if (file) {
      raw[name] = file;
      origin[name] = 'file';
    } else {
      origin[name] = 'default';
    }
  }
  return { raw, origin, versions, corrupt: stored.corrupt };
}

/** Field-by-field view of a state, for `settings show` and `GET /api/v1/settings/{name}`. */
export function describeSettings(state: SettingsState, machine = machineSystemDefaults()): Record<SingletonName, EffectiveSingleton> {
  const out = {} as Record<SingletonName, EffectiveSingleton>;
  for (const name of SINGLETONS) {
    const value = state.raw[name] ?? {};
    const fields: EffectiveSingleton['fields'] = {};
    for (const [field, spec] of Object.entries(FIELDS[name])) {
      const given = value[field];
      if (given !== undefined && given !== null) fields[field] = { value: given, source: state.origin[name] };
      else fields[field] = { value: name === 'SystemSettings' ? machine[field as 'domain' | 'hostname'] : spec.default, source: 'default' };
    }
    out[name] = { name, origin: state.origin[name], ...(state.versions[name] !== undefined ? { version: state.versions[name] } : {}), value, fields };
  }
  return out;
}

/** Validates and stores one whole singleton. */
export async function storeSingleton(store: Store, name: SingletonName, value: unknown, now = nowSeconds()): Promise<SetResult> {
  const errors = validateSingleton(name, value);
  if (errors.length) return { ok: false, errors };
  const version = await writeSingleton(store, name, value as Record<string, unknown>, now);
  return { ok: true, version };
}

/**
 * Changes one field (`tlsrpt settings set`): the singleton in force (stored, else the file's) with
 * that field replaced. `value` is a setting value; `null` puts the field back to its default.
 */
export async function setSettingField(store: Store, config: ServiceConfig, name: SingletonName, field: string, value: unknown): Promise<SetResult> {
  const state = await loadSettingsState(store, config);
  const next: Record<string, unknown> = { ...(state.raw[name] ?? {}) };
  if (value === null) delete next[field];
  else next[field] = value;
  return storeSingleton(store, name, next);
}

/**
 * Opens the settings of the running service: seeds the store from the file where it has no
 * singleton yet (refusing a broken file with every error), compiles, and starts polling.
 * @example
 * const settings = await openSettings(store, config, log);
 * settings.sendFrequency('example.com'); // 'daily'
 * settings.close();
 */
export async function openSettings(store: Store, config: ServiceConfig, log: Logger, opts: OpenSettingsOptions = {}): Promise<SettingsHandle> {
  const machineName = opts.hostname ?? osHostname();
  const machine = machineSystemDefaults(machineName);
  const now = opts.now ?? nowSeconds;
  const localDomains = (config.dkim ?? []).map((d) => d.domain);

  const existing = await readStoredSettings(store);
  for (const name of SINGLETONS) {
    const file = config[name];
    if (!file) continue;
    if (existing.rows.has(name)) {
      if (JSON.stringify(existing.rows.get(name)!.value) !== JSON.stringify(file)) {
        log.warn({ singleton: name }, `${name} in the config file differs from the stored one; the stored one is in force (change it with \`tlsrpt settings set\` or PUT /api/v1/settings/${name})`);
      }
      continue;
    }
    const errors = validateSingleton(name, file);
    if (errors.length) throw new ConfigError(`invalid ${name} in the config file:\n  ${errors.map(formatSettingError).join('\n  ')}`);
    if (await seedSingleton(store, name, file, now())) log.info({ singleton: name }, 'settings seeded from the config file');
  }

  let state = await loadSettingsState(store, config);
  let versions = await readSettingsVersions(store);
  const build = () => {
    for (const name of state.corrupt) log.error({ singleton: name }, 'stored settings are not valid JSON; defaults are used');
    return buildSnapshot(state.raw, { log, nodeId: machineName, machine, localDomains });
  };
  let snapshot = build();
  const listeners = new Set<() => void>();

  // Reloads run one after another, so a reload asked for after a write always reads that write.
  let chain: Promise<unknown> = Promise.resolve();
  const reloadNow = async (): Promise<boolean> => {
    const next = await readSettingsVersions(store);
    if (next === versions) return false;
    state = await loadSettingsState(store, config);
    versions = next;
    snapshot = build();
    log.info({ versions }, 'settings reloaded');
    for (const l of listeners) {
      try {
        l();
      } catch (e) {
        log.error({ err: e }, 'settings change listener failed');
      }
    }
    return true;
  };
  const reload = (): Promise<boolean> => {
    const p = chain.then(reloadNow);
    chain = p.catch(() => {});
    return p;
  };

  let pollFailing = false;
  const timer = setInterval(() => {
    reload().then(() => {
      if (pollFailing) log.info('settings poll works again');
      pollFailing = false;
    }, (e) => {
      if (!pollFailing) log.warn({ err: (e as Error).message }, 'settings poll failed; the settings in force stay');
      pollFailing = true;
    });
  }, opts.pollMs ?? 3000);
  timer.unref();

  return {
    tlsReport: (v) => snapshot.tlsReport(v),
    sendFrequency: (d) => snapshot.sendFrequency(d),
    outboundReportSubmitter: (d) => snapshot.outboundReportSubmitter(d),
    inbound: () => snapshot.inbound(),
    system: () => snapshot.system(),
    reload,
    async update(name, value) {
      const r = await storeSingleton(store, name, value, now());
      if (r.ok) {
        log.info({ singleton: name, version: r.version }, 'settings changed');
        await reload();
      }
      return r;
    },
    effective: () => describeSettings(state, machine),
    onChange(l) {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    close: () => clearInterval(timer),
  };
}
