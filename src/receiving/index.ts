/**
 * @module receiving — the receiving area for the composition root: `createReceiving` builds the
 * one ingestor (store, DNS for DKIM keys, `receiving` options, inbound settings), the
 * long-running channels (SMTP/LMTP listener, IMAP pollers) and the retention purge. The public
 * HTTP endpoint is an HTTP route (`src/http/routes/report-endpoint.ts`) fed by the same ingestor.
 * Walk of one e-mail: sources → pipeline/ingest → extract → dkim → pipeline/authorize →
 * persist (docs/ARCHITECTURE.md).
 */
import { readFileSync } from 'node:fs';
import type { Logger } from '../common/log.js';
import type { Store } from '../store/index.js';
import { parseHostPort, type ServiceConfig } from '../settings/config.js';
import { createResolver, mailauthResolver } from '../dns/index.js';
import { DEFAULT_LIMITS, type ExtractLimits } from './extract/index.js';
import { cachingResolver } from './dkim/verify.js';
import { analyseInput, createIngestor, type Ingestor } from './pipeline/ingest.js';
import { createAnalysePool } from './pipeline/analyse-pool.js';
import { createSaveQueue } from './persist/save-queue.js';
import type { InboundReportInput } from './persist/inbound-store.js';

export type { Ingestor, IngestOutcome } from './pipeline/ingest.js';
import { type Component } from '../common/component.js';
import { createRetentionComponent } from './persist/retention.js';

/** What the receiving side reads from the settings (SettingsService.inbound()). */
export interface InboundSettingsSource {
  inbound(): { addresses: string[]; forwarding: boolean; maxSize: number };
}

/** ReportSettings defaults (docs/spec/settings.md) for callers without a settings service. */
export const DEFAULT_INBOUND = Object.freeze({ addresses: ['postmaster@*'], forwarding: true, maxSize: 26214400 });


/**
 * The one ingestor of a process, from the config. Extraction, parsing and DKIM run in
 * `analysisThreads` worker threads (default 1, `serve`; more for a batch import), started on first
 * need; 0 runs them in this thread (`tlsrpt import --threads 0`: nothing else waits on it).
 * @example
 * const ingestor = createConfiguredIngestor({ config, log, store, settings });
 */
export function createConfiguredIngestor(deps: { config: ServiceConfig; log: Logger; store: Store; settings?: InboundSettingsSource; analysisThreads?: number; groupCommit?: boolean }): Ingestor & { close(): Promise<void> } {
  const servers = deps.config.dns?.servers?.length ? deps.config.dns.servers : undefined;
  const limits = () => ({ maxDecompressedBytes: (deps.settings ?? { inbound: () => DEFAULT_INBOUND }).inbound().maxSize || DEFAULT_LIMITS.maxDecompressedBytes });
  // Every input (a stranger's POST, a big mail) is analysed in a worker thread, so neither
  // parsing it nor loading the Public Suffix List on the first one (50 ms) holds /healthz or the
  // other channels (issue 10). The thread starts on first need: a collector that never receives
  // a report does not carry it.
  let pool: ReturnType<typeof createAnalysePool> | undefined;
  const resolver = deps.analysisThreads === 0 ? cachingResolver(mailauthResolver(createResolver(servers ? { servers } : {}))) : undefined;
  const analyse = resolver
    ? (bytes: Uint8Array, l?: Partial<ExtractLimits>) => analyseInput(bytes, { limits: l, resolver })
    : (bytes: Uint8Array, l?: Partial<ExtractLimits>) =>
      (pool ??= createAnalysePool({ threads: deps.analysisThreads ?? 1, dnsServers: servers, limits })).analyse(bytes, l);
  // Group commit: concurrent saves share one transaction (see save-queue.ts).
  const queue = deps.groupCommit === false ? undefined : createSaveQueue(deps.store);
  const ingestor = createIngestor({
    ...(queue ? { save: (_store: Store, input: InboundReportInput) => queue.save(input) } : {}),
    store: deps.store,
    log: deps.log,
    options: deps.config.receiving,
    limits,
    analyse,
  });
  return { ingest: (b, m) => ingestor.ingest(b, m), close: async () => { await pool?.close(); } };
}

/**
 * The SMTP/LMTP listener (`smtp`) and one IMAP poller per `imap` account, as configured. Each
 * channel's modules (smtp-server, imapflow) are loaded only when it is configured.
 */
export async function receivingComponents(deps: { config: ServiceConfig; log: Logger; ingestor: Ingestor; settings?: InboundSettingsSource; hostname?: string }): Promise<Component[]> {
  const { config, log, ingestor } = deps;
  const settings = deps.settings ?? { inbound: () => DEFAULT_INBOUND };
  const out: Component[] = [];
  const smtp = config.smtp;
  if (smtp) {
    const { createSmtpListener } = await import('./sources/smtp.js');
    const { host, port } = parseHostPort(smtp.listen);
    const listener = createSmtpListener({
      host, port, lmtp: smtp.lmtp, ingestor, log,
      inbound: () => settings.inbound(),
      hostname: deps.hostname,
      ...(smtp.maxMessageBytes !== undefined ? { maxMessageBytes: smtp.maxMessageBytes } : {}),
      ...(smtp.maxClients !== undefined ? { maxClients: smtp.maxClients } : {}),
      ...(smtp.maxClientsPerAddress !== undefined ? { maxClientsPerAddress: smtp.maxClientsPerAddress } : {}),
      ...(smtp.onward ? { onward: smtp.onward } : {}),
      ...(smtp.tls ? { tls: { cert: readFileSync(smtp.tls.cert), key: readFileSync(smtp.tls.key) } } : {}),
    });
    out.push({
      name: smtp.lmtp ? 'lmtp-listener' : 'smtp-listener',
      start: () => listener.start().catch((e: NodeJS.ErrnoException) => {
        throw Object.assign(new Error(`cannot listen on smtp.listen ${smtp.listen}: ${e.code === 'EADDRINUSE' ? 'the address is already in use' : e.message}`), { code: e.code });
      }),
      stop: () => listener.stop(),
    });
  }
  const { createImapPoller } = config.imap?.length ? await import('./sources/imap.js') : ({} as never);
  for (const [i, account] of (config.imap ?? []).entries()) {
    const poller = createImapPoller({ account, ingestor, log });
    out.push({ name: `imap-poller-${i}`, start: () => poller.start(), stop: () => poller.stop() });
  }
  return out;
}

/** The inbound settings of the settings service, opened for a command that has no service around it. */
export async function openInboundSettings(store: Store, config: ServiceConfig, log: Logger): Promise<InboundSettingsSource & { close(): void }> {
  const { openSettings } = await import('../settings/index.js');
  return openSettings(store, config, log);
}

export interface Receiving {
  ingestor: Ingestor;
  /** SMTP/LMTP listener, IMAP pollers, the retention purge, and the ingestor's own close (worker threads). */
  components: Component[];
}

/**
 * @example
 * const receiving = await createReceiving(config, { store, settings, log, hostname });
 * app.route('/', reportEndpointRoutes({ ingestor: receiving.ingestor, … }));
 */
export async function createReceiving(config: ServiceConfig, deps: { store: Store; settings: InboundSettingsSource; log: Logger; hostname?: string }): Promise<Receiving> {
  const { store, settings, log } = deps;
  const ingestor = createConfiguredIngestor({ config, log, store, settings });
  const components: Component[] = [
    // First started, last stopped: the channels below hand it reports until they stop.
    { name: 'ingestor', start: async () => {}, stop: () => ingestor.close() },
    ...await receivingComponents({ config, log, ingestor, settings, hostname: deps.hostname }),
    createRetentionComponent({ store, log: log.child({ component: 'retention' }), options: config.retention }),
  ];
  return { ingestor, components };
}
