/**
 * @module settings/index — the settings singletons of the running service. A field set in
 * `tlsrpt.json` is in force and locked (the API and CLI refuse to change it); every other field
 * lives in the store (every node on one PostgreSQL database sees the same), changes through the
 * API and CLI, and takes effect without a restart: a write reloads at once, and every node polls
 * the stored versions every few seconds.
 */
import { hostname as osHostname } from 'node:os';
import type { Logger } from '../common/log.js';
import type { Store } from '../store/index.js';
import { ConfigError, type ServiceConfig } from './config.js';
import { FIELDS, SINGLETONS, type SingletonName } from './fields.js';
import { buildSnapshot, type RawSettings, type SettingsService } from './snapshot.js';
import { readSettingsVersions, readStoredSettings, writeSingleton } from './store.js';
import { machineSystemDefaults } from './system.js';
import { formatSettingError, validateSingleton, type SettingError } from './validate.js';

export type { SettingsService, TlsReportValues, TlsReportVars, RawSettings } from './snapshot.js';
export { buildSnapshot } from './snapshot.js';
export { FIELDS, SINGLETONS, isSingletonName, type Frequency, type SingletonName } from './fields.js';
export { validateSingleton, validateSettingsDocument, formatSettingError, type SettingError } from './validate.js';
export { machineSystemDefaults } from './system.js';

export type SettingsOrigin = 'default' | 'file' | 'stored';

/**
 * The singletons in force and where each field came from (without writing anything).
 * Precedence, field by field: the config file, else the store, else the default. A field the
 * file sets is *locked*: the API and `settings set` refuse to change it (change the file).
 */
export interface SettingsState {
  /** Per singleton: the stored fields with the file's fields on top. */
  raw: RawSettings;
  /** The stored value alone (what an API write replaces). */
  stored: RawSettings;
  /** Per singleton, the fields the file sets (locked). */
  locked: Record<SingletonName, string[]>;
  /** `stored` when the store holds the singleton, else `file` when the file sets some field, else `default`. */
  origin: Record<SingletonName, SettingsOrigin>;
  versions: Partial<Record<SingletonName, number>>;
}

/** One field of `GET /api/v1/settings/{name}` and `settings show --json`. */
export interface EffectiveField {
  /** The value in force, in the form a user writes it (the default's own form when unset). */
  value: unknown;
  source: SettingsOrigin;
  /** Set by the config file: refused by the API and `settings set`. */
  locked: boolean;
}

export interface EffectiveSingleton {
  name: SingletonName;
  origin: SettingsOrigin;
  version?: number;
  /** The object in force (stored fields with the file's on top; `{}` when everything is default). */
  value: Record<string, unknown>;
  /** Every field: the value in force, where it came from, and whether the file locks it. */
  fields: Record<string, EffectiveField>;
}

export type SetResult =
  | { ok: true; version: number }
  | { ok: false; reason: 'invalid'; errors: SettingError[] }
  /** The write touched fields the config file sets; `fields` names them. Nothing was stored. */
  | { ok: false; reason: 'locked'; fields: string[]; errors: SettingError[] };

/** What `openSettings` returns: the typed accessors plus reload, update and introspection. */
export interface SettingsHandle extends SettingsService {
  /** Re-reads the store now; true when something changed. */
  reload(): Promise<boolean>;
  /**
   * Validates and stores a whole singleton (fields left out take their defaults, or the file's
   * value where the file sets them); refused when it changes a field the file locks.
   */
  update(name: SingletonName, value: unknown): Promise<SetResult>;
  /** The singletons in force, field by field, with their sources. */
  effective(): Record<SingletonName, EffectiveSingleton>;
  /** Called after every reload that changed something. Returns an unsubscribe function. */
  onChange(listener: () => void): () => void;
  /** Stops polling; resolves once a poll under way has finished (close the store after it). */
  close(): Promise<void>;
}

export interface OpenSettingsOptions {
  /** How often to look for changes made by other nodes (default 3000 ms). */
  pollMs?: number;
  /** This machine's host name (default `os.hostname()`): SystemSettings defaults and `system('node_id')`. */
  hostname?: string;
  now?: () => number;
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

/** The fields a file's singleton sets (null means "not set": the default). */
function fileFields(config: ServiceConfig, name: SingletonName): Record<string, unknown> {
  const file = (config[name] ?? {}) as Record<string, unknown>;
  return Object.fromEntries(Object.entries(file).filter(([k, v]) => v !== null && v !== undefined && !k.startsWith('@')));
}

/** Reads the singletons in force: per field the file's, else the stored, else the default. Writes nothing. */
export async function loadSettingsState(store: Store | undefined, config: ServiceConfig): Promise<SettingsState & { corrupt: string[] }> {
  const read = store ? await readStoredSettings(store) : { rows: new Map(), corrupt: [] as string[] };
  const raw: RawSettings = {};
  const stored: RawSettings = {};
  const origin = {} as Record<SingletonName, SettingsOrigin>;
  const locked = {} as Record<SingletonName, string[]>;
  const versions: Partial<Record<SingletonName, number>> = {};
  for (const name of SINGLETONS) {
    const row = read.rows.get(name);
    const file = fileFields(config, name);
    locked[name] = Object.keys(file).filter((k) => k in FIELDS[name]);
    if (row) {
      stored[name] = row.value;
      versions[name] = row.version;
    }
    if (row || locked[name].length) raw[name] = { ...(row?.value ?? {}), ...file };
    origin[name] = row ? 'stored' : locked[name].length ? 'file' : 'default';
  }
  return { raw, stored, locked, origin, versions, corrupt: read.corrupt };
}

/** Field-by-field view of a state, for `settings show` and `GET /api/v1/settings/{name}`. */
export function describeSettings(state: SettingsState, machine = machineSystemDefaults()): Record<SingletonName, EffectiveSingleton> {
  const out = {} as Record<SingletonName, EffectiveSingleton>;
  for (const name of SINGLETONS) {
    const value = state.raw[name] ?? {};
    const fields: EffectiveSingleton['fields'] = {};
    for (const [field, spec] of Object.entries(FIELDS[name])) {
      const given = value[field];
      const locked = state.locked[name].includes(field);
      if (given !== undefined && given !== null) fields[field] = { value: given, source: locked ? 'file' : 'stored', locked };
      else fields[field] = { value: name === 'SystemSettings' ? machine[field as 'domain' | 'hostname'] : spec.default, source: 'default', locked: false };
    }
    out[name] = { name, origin: state.origin[name], ...(state.versions[name] !== undefined ? { version: state.versions[name] } : {}), value, fields };
  }
  return out;
}

const sameJson = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * Validates and stores one whole singleton as written through the API. A field the config file
 * sets may be left out or repeated unchanged (a form sends back what it was shown); a different
 * value is refused — the file decides it.
 */
export async function storeSingleton(store: Store, name: SingletonName, value: unknown, opts: { config?: ServiceConfig; now?: number } = {}): Promise<SetResult> {
  const errors = validateSingleton(name, value);
  if (errors.length) return { ok: false, reason: 'invalid', errors };
  const file = opts.config ? fileFields(opts.config, name) : {};
  const body = { ...(value as Record<string, unknown>) };
  const refused: string[] = [];
  for (const field of Object.keys(file)) {
    if (!(field in body)) continue;
    if (!sameJson(body[field], file[field])) refused.push(field);
    delete body[field];
  }
  if (refused.length) {
    return {
      ok: false,
      reason: 'locked',
      fields: refused.map((f) => `${name}.${f}`),
      errors: refused.map((f) => ({ field: `${name}.${f}`, message: `set in the config file, so it cannot be changed here: change ${name}.${f} in the config file (or remove it there to manage it here)` })),
    };
  }
  const version = await writeSingleton(store, name, body, opts.now ?? nowSeconds());
  return { ok: true, version };
}

/**
 * Changes one field (`tlsrpt settings set`): the stored singleton with that field replaced.
 * `value` is a setting value; `null` puts the field back to its default. A field the config file
 * sets is refused.
 */
export async function setSettingField(store: Store, config: ServiceConfig, name: SingletonName, field: string, value: unknown): Promise<SetResult> {
  const state = await loadSettingsState(store, config);
  if (state.locked[name].includes(field)) {
    const message = `set in the config file, so it cannot be changed here: change ${name}.${field} in the config file (or remove it there to manage it here)`;
    return { ok: false, reason: 'locked', fields: [`${name}.${field}`], errors: [{ field: `${name}.${field}`, message }] };
  }
  const next: Record<string, unknown> = { ...(state.stored[name] ?? {}) };
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
 * await settings.close();
 */
export async function openSettings(store: Store, config: ServiceConfig, log: Logger, opts: OpenSettingsOptions = {}): Promise<SettingsHandle> {
  const machineName = opts.hostname ?? osHostname();
  const machine = machineSystemDefaults(machineName);
  const now = opts.now ?? nowSeconds;
  const localDomains = (config.dkim ?? []).map((d) => d.domain);

  // The file's singletons are in force as written (never copied into the store): refuse a broken one.
  for (const name of SINGLETONS) {
    const file = config[name];
    if (!file) continue;
    const errors = validateSingleton(name, file);
    if (errors.length) throw new ConfigError(`invalid ${name} in the config file:\n  ${errors.map(formatSettingError).join('\n  ')}`);
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
      const r = await storeSingleton(store, name, value, { config, now: now() });
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
    // A poll under way must finish before the store it reads is closed (it logged "driver has
    // already been destroyed" at every shutdown that met one).
    close: () => {
      clearInterval(timer);
      return chain.then(() => {});
    },
  };
}
