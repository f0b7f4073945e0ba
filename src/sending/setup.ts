/**
 * @module sending/setup — builds the delivery queue and the report scheduler from the
 * service configuration (`relay`, `dkim`, `dns`, `delivery`), for `serve` (service.ts) and for
 * `tlsrpt outbound send` alike, so both send the same way.
 */
import { readFileSync } from 'node:fs';
import type { Logger } from '../common/log.js';
import type { Store } from '../store/index.js';
import type { ServiceConfig } from '../settings/config.js';
import type { DeliverySection } from '../settings/sections/index.js';
import { createResolver, TtlCache, type Resolver, type TlsrptLookup } from '../dns/index.js';
import { ReportScheduler, newNodeId } from './schedule/scheduler.js';
import { DeliveryQueue } from './deliver/queue.js';
import { createRelayMailer, findDkimKey, loadDkimKeys, type DkimKey } from './deliver/mail.js';
import { createSendmailMailer } from './deliver/sendmail.js';
import { systemLookup, type AddressLookup } from './deliver/ssrf.js';
import { checkedReportValues, type ReportSettingsSource } from './report/settings-view.js';
import { silentLog } from '../common/log.js';

export class DeliveryConfigError extends Error {
  override name = 'DeliveryConfigError';
}

export interface Delivery {
  queue: DeliveryQueue;
  scheduler: ReportScheduler;
  nodeId: string;
  close(): Promise<void>;
}

/**
 * @example
 * const d = createDelivery({ config, store, settings, log });
 * d.scheduler.start();            // serve
 * await d.scheduler.tick({ force: true });   // outbound send --now
 */
export function createDelivery(a: {
  config: ServiceConfig;
  store: Store;
  settings: ReportSettingsSource;
  log: Logger;
  clock?: () => number;
  random?: () => number;
  resolver?: Resolver;
  lookup?: AddressLookup;
  /** The claim name (default a new one): `serve` passes the one its collector registers under. */
  nodeId?: string;
}): Delivery {
  const { config, log } = a;
  const clock = a.clock ?? (() => Math.floor(Date.now() / 1000));
  const random = a.random ?? Math.random;
  const nodeId = a.nodeId ?? newNodeId();
  const d: Partial<DeliverySection> = config.delivery ?? {};
  let dkimKeys;
  try {
    dkimKeys = loadDkimKeys(config.dkim, (file, mode) => log.warn({ file, mode },
      `DKIM private key file ${file} is readable by group or others (mode ${mode}): anyone who can read it can sign mail as its domain; chmod 600 it`));
  } catch (e) {
    throw new DeliveryConfigError(`cannot read a DKIM private key from "dkim": ${(e as Error).message}`);
  }
  let extraCa: string | undefined;
  if (d.extraCaFile) {
    try {
      extraCa = readFileSync(d.extraCaFile, 'utf8');
    } catch (e) {
      throw new DeliveryConfigError(`cannot read delivery.extraCaFile ${d.extraCaFile}: ${(e as Error).message}`);
    }
  }
  const servers = config.dns?.servers;
  const resolver = a.resolver ?? createResolver(servers?.length ? { servers } : {});
  // https rua hosts: the configured DNS servers when there are any, else the system resolver
  // (getaddrinfo, which also knows /etc/hosts). Either way the answer is checked and pinned.
  const lookup: AddressLookup = a.lookup ?? (servers?.length ? (h) => resolver.resolveAddresses(h) : systemLookup);
  const relay = config.relay;
  const mailer = !relay ? undefined : relay.sendmail ? createSendmailMailer(relay.sendmail) : createRelayMailer({ ...relay, host: relay.host ?? '' });
  if (!relay) log.info('no "relay" configured: mailto: rua targets wait until one is');
  const signing = (d.dkim ?? 'sign') === 'sign';
  if (mailer && signing) requireSigningKey(dkimKeys, a.settings);
  const queue = new DeliveryQueue({
    store: a.store, log, clock, random, nodeId, settings: a.settings, mailer, dkimKeys: signing ? dkimKeys : 'mta',
    https: { lookup, allowPrivateTargets: d.allowPrivateTargets ?? false, extraCa },
    leaseSeconds: d.leaseSeconds,
  });
  const scheduler = new ReportScheduler({
    store: a.store, log, clock, random, nodeId, settings: a.settings, resolver,
    tlsrptCache: new TtlCache<TlsrptLookup>({ clock, maxEntries: 100_000 }),
    queue, spreadSeconds: d.spreadSeconds ?? 3600, leaseSeconds: d.leaseSeconds,
  });
  return {
    queue, scheduler, nodeId,
    close: async () => {
      await scheduler.stop();
      mailer?.close();
    },
  };
}

/**
 * Report mail we sign needs the key of the dkimSignDomain in force (RFC 8460 §3: receivers MUST
 * ignore unsigned reports). A missing key is a setup error to fix before starting, not a reason
 * to queue mail that can never leave. Checked with the settings as they stand (the expression
 * evaluated for a sample policy domain; it normally names our own domain).
 */
function requireSigningKey(keys: DkimKey[], settings: ReportSettingsSource): void {
  const { dkimSignDomain } = checkedReportValues(settings, { rcptDomain: 'example.org' }, silentLog);
  if (findDkimKey(keys, dkimSignDomain)) return;
  const have = keys.length ? `; "dkim" has keys for ${keys.map((k) => k.domain).join(', ')}` : '; "dkim" has none';
  throw new DeliveryConfigError(
    `no DKIM key for ${dkimSignDomain} (TlsReportSettings.dkimSignDomain, default SystemSettings.domain)${have}. ` +
    'Add {"domain", "selector", "privateKeyFile"} to "dkim" in the config, or set "delivery": {"dkim": "mta"} when the MTA signs report mail',
  );
}
