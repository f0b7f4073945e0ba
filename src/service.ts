/**
 * @module service — the composition root: reads the configuration, opens the store, builds the
 * HTTP app, starts every enabled part (components) and stops them in reverse order.
 */
import type { Logger } from './log.js';
import type { ServiceConfig } from './settings/config.js';
import { parseHostPort } from './settings/config.js';
import { createApp, type HttpApp } from './http/app.js';
import { listen, type ListeningServer } from './http/server.js';
import { openStore, type Store } from './store/index.js';

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
}

export interface RunningService {
  http: ListeningServer;
  store: Store;
  stop(): Promise<void>;
}

export async function startService(config: ServiceConfig, log: Logger): Promise<RunningService> {
  const { host, port } = parseHostPort(config.http.listen);
  const app = createApp();
  // With no config this is ./data/tlsrpt.db (created on first start, schema migrated).
  const store = await openStore(config.store, { log });
  const ctx: ServiceContext = { config, log, app, store };
  const components: Component[] = [];
  // Areas add their components and routes here, in dependency order.
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
    http = await listen(app, host, port, config.http.tls);
  } catch (e) {
    // A half-started service must not leave sockets or the database open behind it.
    await stopStarted();
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
      await store.close();
    })()),
  };
}
