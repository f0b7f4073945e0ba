/**
 * @module test/sending/delivery/harness — the sending pipeline on real peers for tests: a store,
 * the collector's Aggregator, a loopback DNS server (TLSRPT records, DKIM key), an smtp-server
 * relay, an HTTPS receiver with a test CA, the delivery queue and the scheduler, all on one
 * movable clock. The settings are a plain object (the SettingsService's shape).
 */
import { Aggregator } from '../../../src/sending/collect/aggregate.js';
import type { TlsSessionOutcome } from '../../../src/sending/collect/event.js';
import { createResolver, TtlCache, type TlsrptLookup } from '../../../src/dns/index.js';
import { DeliveryQueue } from '../../../src/sending/deliver/queue.js';
import { createRelayMailer } from '../../../src/sending/deliver/mail.js';
import { ReportScheduler } from '../../../src/sending/schedule/scheduler.js';
import type { ReportSettingsSource, SendFrequency, TlsReportValues } from '../../../src/sending/report/settings-view.js';
import type { Store } from '../../../src/store/index.js';
import { startDnsServer, type DnsTestServer, type Zone } from '../../support/dns-server.js';
import { startSmtpSink, type SmtpSink } from '../../support/smtp-sink.js';
import { startHttpsServer, type TestHttpsServer } from '../../support/https-server.js';
import { dkimKeyPair, txtStrings } from './dkim-key.js';
import { captureLog } from './log-capture.js';
import { buildSnapshot, describeSettings, SINGLETONS, type RawSettings, type SettingsOrigin, type SingletonName } from '../../../src/settings/index.js';

export const DAY = 86400;
/** 2026-11-27T00:00:00Z */
export const D0 = Date.UTC(2026, 10, 27) / 1000;

export interface SettingsOverrides extends Partial<TlsReportValues> {
  frequency?: (domain: string) => SendFrequency;
}

/** A stand-in with the SettingsService's shape and the defaults of docs/spec/settings.md for domain example.com. */
export function plainSettings(over: SettingsOverrides = {}): ReportSettingsSource & { values: SettingsOverrides } {
  const values = over;
  return {
    values,
    tlsReport: () => ({
      fromName: 'Report Subsystem', fromAddress: 'noreply-tls@example.com', subject: 'TLS Aggregate Report',
      orgName: 'example.com', maxReportSize: 5242880, dkimSignDomain: 'example.com', submitter: 'mx.example.com',
      ...Object.fromEntries(Object.entries(values).filter(([k]) => k !== 'frequency')),
    } as TlsReportValues),
    sendFrequency: (d) => values.frequency?.(d) ?? 'daily',
    outboundReportSubmitter: () => values.submitter ?? 'mx.example.com',
    system: () => ({ domain: 'example.com', hostname: 'mx.example.com' }),
  };
}

/**
 * The real SettingsService over `raw` (as a config file gives it), with `effective()` telling
 * the fields the operator set from the defaults — what `serve` hands the sending area.
 */
export function fileSettings(raw: RawSettings): ReportSettingsSource {
  const machine = { domain: 'example.com', hostname: 'mta.example.com' };
  const snapshot = buildSnapshot(raw, { log: captureLog().log, nodeId: 'test', machine });
  const origin = Object.fromEntries(SINGLETONS.map((n) => [n, raw[n] ? 'file' : 'default'])) as Record<SingletonName, SettingsOrigin>;
  const locked = Object.fromEntries(SINGLETONS.map((n) => [n, Object.keys(raw[n] ?? {})])) as Record<SingletonName, string[]>;
  const effective = describeSettings({ raw, stored: {}, locked, origin, versions: {} }, machine);
  return { ...snapshot, effective: () => effective };
}

/** One STS session outcome for `domain`; failed ones carry a certificate-expired detail. */
export function stsOutcome(domain: string, failed: boolean, record?: string, detail: Partial<{ sendingMtaIp: string; receivingIp: string; resultType: string }> = {}): TlsSessionOutcome {
  return {
    recipientDomain: domain,
    ...(record ? { tlsrptRecord: record } : {}),
    policies: [{
      policy: { policyType: 'sts', policyString: ['version: STSv1', 'mode: testing', `mx: mx.${domain}`, 'max_age: 86400'], policyDomain: domain, mxHost: [`mx.${domain}`] },
      failed,
      failureDetails: failed ? [{ resultType: detail.resultType ?? 'certificate-expired', sendingMtaIp: detail.sendingMtaIp ?? '192.0.2.1', receivingMxHostname: `mx.${domain}`, receivingIp: detail.receivingIp ?? '198.51.100.7' }] : [],
    }],
  };
}

export interface Harness {
  store: Store;
  dns: DnsTestServer;
  sink: SmtpSink;
  https: TestHttpsServer;
  settings: ReturnType<typeof plainSettings>;
  /** The DKIM key the queue signs with and the DNS serves (verify with dkim-verify.ts). */
  dkim: { dnsName: string; txt: string };
  log: ReturnType<typeof captureLog>;
  /** Epoch seconds; move it with `now.t = …`. */
  now: { t: number };
  aggregator: Aggregator;
  queue: DeliveryQueue;
  scheduler: ReportScheduler;
  /** Another process on the same database (own node id, own connection when given). */
  node(id: string, store?: Store): { queue: DeliveryQueue; scheduler: ReportScheduler };
  record(domain: string, extra?: string): string;
  close(): Promise<void>;
}

export async function startHarness(store: Store, opts: { zone?: Zone; settings?: SettingsOverrides; settingsSource?: ReportSettingsSource; spreadSeconds?: number; random?: () => number; httpsStatuses?: number[] } = {}): Promise<Harness> {
  const pair = dkimKeyPair('example.com', 'tlsrpt');
  const dns = await startDnsServer({ [pair.dnsName]: { TXT: [txtStrings(pair.txt)] }, localhost: { A: ['127.0.0.1'] }, ...(opts.zone ?? {}) });
  const sink = await startSmtpSink();
  const https = await startHttpsServer({ statuses: opts.httpsStatuses ?? [200] });
  const settings = (opts.settingsSource ?? plainSettings(opts.settings)) as ReturnType<typeof plainSettings>;
  const log = captureLog();
  const now = { t: D0 + 10 * 3600 };
  const resolver = createResolver({ servers: dns.servers, timeoutMs: 500 });
  const aggregator = new Aggregator({ store, sendFrequency: (d) => settings.sendFrequency(d), clock: () => now.t * 1000 });
  const mailer = createRelayMailer({ host: '127.0.0.1', port: sink.port, secure: false, connectionTimeoutMs: 2000 });
  const random = opts.random ?? (() => 0.5);
  const make = (nodeId: string, s: Store = store) => {
    const queue = new DeliveryQueue({
      store: s, log: log.log, clock: () => now.t, random, nodeId, settings, mailer, dkimKeys: [pair.key],
      https: { lookup: async (h) => resolver.resolveAddresses(h), allowPrivateTargets: true, extraCa: https.ca, totalTimeoutMs: 5000 },
    });
    const scheduler = new ReportScheduler({
      store: s, log: log.log, clock: () => now.t, random, nodeId, settings, resolver,
      tlsrptCache: new TtlCache<TlsrptLookup>({ clock: () => now.t }), queue, spreadSeconds: opts.spreadSeconds ?? 0,
    });
    return { queue, scheduler };
  };
  const main = make('node-a');
  return {
    store, dns, sink, https, settings, dkim: pair, log, now, aggregator, ...main,
    node: make,
    record: (domain, extra = '') => `v=TLSRPTv1; rua=mailto:tls-reports@${domain}${extra}`,
    close: async () => {
      await main.scheduler.stop();
      mailer.close();
      await sink.close();
      await https.close();
      await dns.close();
    },
  };
}
