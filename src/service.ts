/**
 * @module service — the composition root: opens the store and the settings, asks each area
 * (sending, receiving) for its components, mounts the HTTP routes over them, starts every
 * enabled part in order and stops them in reverse.
 */
import path from 'node:path';
import type { Component } from './common/component.js';
import type { Logger } from './common/log.js';
import type { ServiceConfig } from './settings/config.js';
import { parseHostPort } from './settings/config.js';
import { openSettings } from './settings/index.js';
import { openStore, type Store } from './store/index.js';
import { createSending } from './sending/index.js';
import { createReceiving } from './receiving/index.js';
import { createApp, type HttpApp } from './http/app.js';
import { prepareAdminAuth } from './http/auth.js';
import { createStoredSessionStore } from './http/session.js';
import { openApiRoutes } from './http/openapi.js';
import { listen, type ListeningServer, type RequestGate } from './http/server.js';
import { settingsRoutes } from './http/routes/settings.js';
import { eventsRoutes } from './http/routes/events.js';
import { metricsRoutes } from './http/routes/metrics.js';
import { reportEndpoint } from './http/routes/report-endpoint.js';
import { inboundRoutes } from './http/routes/inbound.js';
import { outboundRoutes } from './http/routes/outbound.js';
import { clusterRoutes } from './http/routes/cluster.js';
import { alertsRoutes } from './http/routes/alerts.js';
import { createConfiguredAlerts } from './analysis/alerts/index.js';
import { uiRoutes } from './http/routes/ui.js';

export type { Component } from './common/component.js';

export interface RunningService {
  http: ListeningServer;
  /** The HTTP app (its routes: the OpenAPI test compares them with the document). */
  app: HttpApp;
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
  const closeAll: Array<() => unknown> = [() => store.close()];
  const components: Component[] = [];
  let app: HttpApp;
  let gate: RequestGate | undefined;
  // A generated admin token is stored and printed only once start-up has succeeded (below).
  let commitToken: () => Promise<void>;
  try {
    const settings = await openSettings(store, config, log.child({ component: 'settings' }));
    closeAll.unshift(() => settings.close());
    warnBareDomain(settings.system().domain, log);
    const prepared = await prepareAdminAuth({ store, configuredToken: config.http.token, log, tokenFile: adminTokenFile(config) });
    const auth = prepared.auth;
    commitToken = prepared.commit;
    app = createApp({ auth, maxBodyBytes: config.http.maxBodyBytes, log, sessions: createStoredSessionStore(store) });

    const sending = await createSending(config, { store, settings, log });
    const receiving = await createReceiving(config, { store, settings, log, hostname: settings.system().hostname });
    // Collector first (stopped last, so it flushes what the sources handed it), then receiving.
    components.push(...sending.components, ...receiving.components);
    // Prometheus on its own address without the admin token (metrics.listen).
    if (config.metrics?.listen) {
      const { createMetricsListener } = await import('./http/metrics-listener.js');
      components.push(createMetricsListener(parseHostPort(config.metrics.listen), log.child({ component: 'metrics' })));
    }

    app.route('/', settingsRoutes({ settings }));
    app.route('/', eventsRoutes({ collector: sending.collector, store, maxBodyBytes: config.http.maxBodyBytes }));
    app.route('/', metricsRoutes({ auth }));
    const publicEndpoint = reportEndpoint({
      ingestor: receiving.ingestor, log, path: config.http.reportPath, maxBodyBytes: config.http.reportMaxBodyBytes,
      maxInflatedBytes: config.http.reportMaxInflatedBytes, bytesPerMinute: config.http.reportBytesPerMinute,
      ratePerMinute: config.http.reportRatePerMinute, trustProxy: config.http.trustProxy,
    });
    app.route('/', publicEndpoint.routes);
    gate = publicEndpoint.gate;
    app.route('/', inboundRoutes({ store }));
    app.route('/', outboundRoutes({ store }));
    app.route('/', clusterRoutes({ store }));
    // Alerts (issue 14): the history always; evaluation and notification when `alerts` is configured.
    app.route('/', alertsRoutes({ store }));
    if (config.alerts) {
      const alerts = await createConfiguredAlerts({ store, config: config.alerts, relay: config.relay?.host ? { ...config.relay, host: config.relay.host } : undefined, systemDomain: settings.system().domain, log: log.child({ component: 'alerts' }) });
      components.push(alerts.component);
    }
    app.route('/', uiRoutes({ store, settings, config })); // the web UI's read models (issue 13)
    app.route('/', openApiRoutes(app));
  } catch (e) {
    for (const close of closeAll) await close();
    throw e;
  }

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
    http = await listen(app, host, port, config.http.tls, { ...config.http, gate });
    await commitToken();
  } catch (e) {
    // A half-started service must not leave sockets or the database open behind it.
    await stopStarted();
    for (const close of closeAll) await close();
    throw e;
  }
  log.info({ listen: `${host}:${http.port}`, tls: Boolean(config.http.tls) }, 'http listening');

  let stopping: Promise<void> | undefined;
  return {
    http,
    app,
    store,
    stop: () => (stopping ??= (async () => {
      await http.close();
      await stopStarted();
      for (const close of closeAll) await close();
    })()),
  };
}

/**
 * The domain names us in every report we send (organization-name, From, DKIM by default): a
 * bare host name there is almost always a forgotten setting, not a choice.
 */
function warnBareDomain(domain: string, log: Logger): void {
  if (domain.includes('.')) return;
  log.warn({ domain }, `SystemSettings.domain is "${domain}" (from this machine's host name), not a domain name: reports would be sent as "${domain}"; set it with: tlsrpt settings set SystemSettings domain example.org`);
}
