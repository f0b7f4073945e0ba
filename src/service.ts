/**
 * @module service — the composition root: reads the configuration, opens the store, builds the
 * HTTP app, starts every enabled part (components) and stops them in reverse order.
 */
import type { Logger } from './log.js';
import type { ServiceConfig } from './settings/config.js';
import { parseHostPort } from './settings/config.js';
import { createApp, type HttpApp } from './http/app.js';
import { listen, type ListeningServer } from './http/server.js';

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
}

export interface RunningService {
  http: ListeningServer;
  stop(): Promise<void>;
}

export async function startService(config: ServiceConfig, log: Logger): Promise<RunningService> {
  const app = createApp();
  const ctx: ServiceContext = { config, log, app };
  const components: Component[] = [];
  // Areas add their components and routes here, in dependency order.
  void ctx;

  const started: Component[] = [];
  for (const c of components) {
    await c.start();
    started.push(c);
    log.info({ component: c.name }, 'started');
  }
  const { host, port } = parseHostPort(config.http.listen);
  const http = await listen(app, host, port, config.http.tls);
  log.info({ listen: `${host}:${http.port}`, tls: Boolean(config.http.tls) }, 'http listening');

  let stopping: Promise<void> | undefined;
  return {
    http,
    stop: () => (stopping ??= (async () => {
      await http.close();
      for (const c of started.reverse()) {
        try {
          await c.stop();
        } catch (e) {
          log.error({ component: c.name, err: e }, 'stop failed');
        }
      }
    })()),
  };
}
