/**
 * @module service — the composition root: reads the configuration, opens the store, builds the
 * HTTP app, starts every enabled part (components) and stops them in reverse order.
 */
import path from 'node:path';
import type { Logger } from './common/log.js';
import type { ServiceConfig } from './settings/config.js';
import { parseHostPort } from './settings/config.js';
import { createApp, type HttpApp } from './http/app.js';
import { setupAdminAuth } from './http/auth.js';
import { settingsRoutes } from './http/routes/settings.js';
import { openSettings, type SettingsHandle } from './settings/index.js';
import { listen, type ListeningServer } from './http/server.js';
import { openStore, type Store } from './store/index.js';
import { createConfiguredIngestor, receivingComponents } from './receiving/index.js';
import { reportEndpointRoutes } from './http/routes/report-endpoint.js';

/** A long-running part of the service (collector, listener, scheduler…). */
export interface Component {
  name: string;
  start(): Promise<void>;
  /** Must finish its work in hand (flush, close sockets) before resolving. */
  stop(): Promise<void>;
}

export interface ServiceContext {
  config: ServiceConfig;
  log: Logger;
  app: HttpApp;
  store: Store;
  /** The settings singletons in force (reloaded on change); pass to areas that need them. */
  settings: SettingsHandle;
}

export interface RunningService {
  http: ListeningServer;
  store: Store;
  stop(): Promise<void>;
}

/** Where a generated admin token is written when there is no terminal: next to the SQLite database, else ./data. */
function adminTokenFile(config: ServiceConfig): string {
  return 'sqlite' in config.store ? path.join(path.dirname(path.resolve(config.store.sqlite)), 'admin-token') : path.resolve('data', 'admin-token');
}

export async function startService(config: ServiceConfig, log: Logger): Promise<RunningService> {
  const { host, port } = parseHostPort(config.http.listen);
  // With no config this is ./data/tlsrpt.db (created on first start, schema migrated).
  const store = await openStore(config.store, { log });
  // Settings singletons (stored; seeded from the file) and the admin token for /api/*.
  let settings: SettingsHandle;
  let app: HttpApp;
  try {
    settings = await openSettings(store, config, log.child({ component: 'settings' }));
    const auth = await setupAdminAuth({ store, configuredToken: config.http.token, log, tokenFile: adminTokenFile(config) });
    app = createApp({ auth, maxBodyBytes: config.http.maxBodyBytes, log });
  } catch (e) {
    await store.close();
    throw e;
  }
  app.route('/', settingsRoutes({ settings }));
  const { domain } = settings.system();
  // The domain names us in every report we send (organization-name, From, DKIM by default):
  // a bare host name there is almost always a forgotten setting, not a choice.
  if (!domain.includes('.')) {
    log.warn({ domain }, `SystemSettings.domain is "${domain}" (from this machine's host name), not a domain name: reports would be sent as "${domain}"; set it with: tlsrpt settings set SystemSettings domain example.org`);
  }
  const ctx: ServiceContext = { config, log, app, store, settings };
  const components: Component[] = [];
  // Areas add their components and routes here, in dependency order.
  // Collection (issue 5): the aggregator + POST /api/v1/events always; the libtlsrpt datagram
  // socket when collector.socket is set. Started before the socket, stopped after it (flushes last).
  {
    const { createCollector, countSourceRejection, exposeDatagramStats } = await import('./sending/collect/collector.js');
    const { eventsRoutes } = await import('./http/routes/events.js');
    const { metricsRoutes } = await import('./http/routes/metrics.js');
    const cc = config.collector;
    const collector = createCollector({
      store,
      sendFrequency: (policyDomain: string) => settings.sendFrequency(policyDomain),
      flushMs: cc?.flushMs,
      flushEvents: cc?.flushEvents,
      log: log.child({ component: 'collector' }),
    });
    components.push(collector);
    if (cc?.socket) {
      const { createDatagramSource } = await import('./sending/collect/sources/datagram.js');
      const source = createDatagramSource({
        path: cc.socket, mode: cc.mode, owner: cc.owner, group: cc.group, dumpDir: cc.dumpDir,
        log,
        onOutcome: (o) => void collector.record(o, 'datagram'),
        onReject: (reason) => countSourceRejection('datagram', reason),
      });
      exposeDatagramStats(() => source.stats());
      components.push(source);
    }
    app.route('/', eventsRoutes({ collector, store, maxBodyBytes: config.http.maxBodyBytes }));
    // /metrics is outside /api but needs the same admin token (idempotent: reads what settings set up).
    const { setupAdminAuth } = await import('./http/auth.js');
    app.route('/', metricsRoutes({ auth: await setupAdminAuth({ store, configuredToken: config.http.token, log }) }));
  }
  // Receiving: one ingestor for the public endpoint (RFC 8460 §5.4), SMTP/LMTP listener and IMAP pollers.
  const ingestor = createConfiguredIngestor({ config, log, store, settings });
  components.push({ name: 'ingestor', start: async () => {}, stop: () => ingestor.close() });
  app.route('/', reportEndpointRoutes({
    ingestor, log, path: config.http.reportPath, maxBodyBytes: config.http.reportMaxBodyBytes,
    maxInflatedBytes: config.http.reportMaxInflatedBytes, bytesPerMinute: config.http.reportBytesPerMinute,
    ratePerMinute: config.http.reportRatePerMinute, trustProxy: config.http.trustProxy,
  }));
  components.push(...receivingComponents({ config, log, ingestor, settings, hostname: settings.system().hostname }));
  // Inbound queries (GET /api/v1/inbound/...) and the daily retention purge (retention.inboundDays, default 400).
  {
    const { inboundRoutes } = await import('./http/routes/inbound.js');
    const { createRetentionComponent, retentionOptions } = await import('./receiving/persist/retention.js');
    app.route('/', inboundRoutes({ store }));
    components.push(createRetentionComponent({ store, log: log.child({ component: 'retention' }), options: retentionOptions(config) }));
  }
  // Delivery (issue 6): the report scheduler (closes windows at their UTC end, builds and sends
  // reports, retries) and GET /api/v1/outbound/reports.
  {
    const { createDelivery } = await import('./sending/setup.js');
    const { outboundRoutes } = await import('./http/routes/outbound.js');
    const delivery = createDelivery({ config, store, settings, log: log.child({ component: 'delivery' }) });
    app.route('/', outboundRoutes({ store }));
    components.push({
      name: 'delivery',
      start: async () => delivery.scheduler.start(),
      stop: () => delivery.close(),
    });
  }
  void ctx;

  const started: Component[] = [];
  const stopStarted = async () => {
    for (const c of started.reverse()) {
      try {
        await c.stop();
      } catch (e) {
        log.error({ component: c.name, err: e }, 'stop failed');
      }
    }
    started.length = 0;
  };
  let http: ListeningServer;
  try {
    for (const c of components) {
      await c.start();
      started.push(c);
      log.info({ component: c.name }, 'started');
    }
    http = await listen(app, host, port, config.http.tls, config.http);
  } catch (e) {
    // A half-started service must not leave sockets or the database open behind it.
    await stopStarted();
    settings.close();
    await store.close();
    throw e;
  }
  log.info({ listen: `${host}:${http.port}`, tls: Boolean(config.http.tls) }, 'http listening');

  let stopping: Promise<void> | undefined;
  return {
    http,
    store,
    stop: () => (stopping ??= (async () => {
      await http.close();
      await stopStarted();
      settings.close();
      await store.close();
    })()),
  };
}
