/**
 * @module analysis/alerts — the alerts area: the engine (rules, cooldown, notification), the
 * service component that runs it (newly stored reports every `pollSeconds`, the daily rules and
 * digest at `dailyHourUtc`), and the notifier built from the config (relay, webhook).
 */
import { readFileSync } from 'node:fs';
import type { Store } from '../../store/index.js';
import type { Logger } from '../../common/log.js';
import type { AlertsConfig } from '../../settings/alerts.js';
import { createAlertEngine, type AlertEngine } from './engine.js';
import { emailNotifier, webhookNotifier, type MailTransport, type Notifier } from './notify.js';

export { createAlertEngine, type AlertEngine, type StoredAlert } from './engine.js';
export { listAlerts } from './history.js';
export { signWebhook } from './notify.js';

export interface RelaySettings { host: string; port: number; secure: boolean; user?: string; password?: string }

/** The notifier a config asks for; `transport` overrides the relay (tests, benches). */
export async function notifierFromConfig(config: AlertsConfig, o: { relay?: RelaySettings; systemDomain: string; transport?: MailTransport }): Promise<Notifier> {
  const n: Notifier = {};
  if (config.webhook) {
    n.webhook = webhookNotifier({ url: config.webhook.url, secret: config.webhook.secret, ca: config.webhook.caFile ? readFileSync(config.webhook.caFile, 'utf8') : undefined });
  }
  if (config.email) {
    let transport = o.transport;
    if (!transport && o.relay) {
      const { createTransport } = await import('nodemailer');
      const r = o.relay;
      transport = createTransport({ host: r.host, port: r.port, secure: r.secure, auth: r.user ? { user: r.user, pass: r.password ?? '' } : undefined }) as unknown as MailTransport;
    }
    if (transport) n.email = emailNotifier({ transport, from: config.email.from ?? `tlsrpt-alerts@${o.systemDomain}`, to: config.email.to });
  }
  return n;
}

/** The service component: a timer that never overlaps itself. */
export function alertsComponent(engine: AlertEngine, o: { pollSeconds: number; log: Logger }) {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  const tick = async () => {
    try {
      const raised = await engine.evaluateStored();
      if (raised.length) o.log.info({ alerts: raised.length }, 'alerts raised');
      if (await engine.dailyDue()) {
        const d = await engine.runDaily();
        o.log.info({ raised: d.raised.length, digested: d.digested }, 'daily alert run');
      }
    } catch (e) {
      o.log.error({ err: e }, 'alert evaluation failed');
    }
  };
  return {
    name: 'alerts',
    async start() {
      const loop = () => { running = tick().finally(() => { if (timer !== undefined) timer = setTimeout(loop, o.pollSeconds * 1000); }); };
      timer = setTimeout(loop, 0);
    },
    async stop() {
      const t = timer;
      timer = undefined;
      clearTimeout(t);
      await running;
    },
  };
}

/** Everything the service needs, from the config. */
export async function createConfiguredAlerts(o: { store: Store; config: AlertsConfig; relay?: RelaySettings; systemDomain: string; log: Logger }) {
  const notifier = await notifierFromConfig(o.config, { relay: o.relay, systemDomain: o.systemDomain });
  const engine = createAlertEngine({ store: o.store, config: o.config, notifier, log: o.log });
  return { engine, component: alertsComponent(engine, { pollSeconds: o.config.pollSeconds, log: o.log }) };
}
