/**
 * @module http/routes/ui — the read models and the few actions the web UI needs beyond the
 * general API (token- or session-protected under /api like everything there):
 *
 *   GET  /api/v1/ui/overview?days=30 | from&to        policy domains' health + the sending side
 *   GET  /api/v1/ui/domains/{domain}?days | from&to     one domain: daily chart, tables, policies
 *   GET  /api/v1/ui/outbound                           open windows + built reports with targets
 *   GET  /api/v1/outbound/reports/{id}/json             the RFC JSON a built report carries
 *   POST /api/v1/outbound/reports/{id}/send             make one report due now ("send now")
 *   GET  /api/v1/ui/settings                           the report-settings form: fields, defaults, values
 *   POST /api/v1/settings/preview                      validate + evaluate unsaved values for a domain
 *   GET  /api/v1/ui/system                             version, uptime, parts, database, queues, counters
 */
import { readFileSync } from 'node:fs';
import { Hono, type Context } from 'hono';
import type { Store } from '../../store/index.js';
import type { ServiceConfig } from '../../settings/config.js';
import type { SettingsHandle } from '../../settings/index.js';
import { overview, type DayRange } from '../../analysis/overview.js';
import { domainDetail } from '../../analysis/domain-detail.js';
import { expediteOutboundReport, openWindows, outboundReportJson } from '../../analysis/outbound-view.js';
import { systemStatus } from '../../analysis/system-status.js';
import { FilterError, parseCount, parseDay, DAY_SECONDS } from '../../analysis/filters.js';
import { normalizeDomain } from '../../common/domain.js';
import { listReports, reportViewToJson } from '../../analysis/outbound-reports.js';
import { previewReportSettings, reportSettingsForm } from '../../settings/preview.js';
import { registry } from '../../common/metrics.js';
import { defaultWebRoot } from './web-ui.js';
import { describeRoute } from '../openapi.js';

export interface UiRoutesDeps {
  store: Store;
  settings: Pick<SettingsHandle, 'effective' | 'system'>;
  config?: ServiceConfig;
  /** Epoch seconds (tests pin it). */
  now?: () => number;
}

const bad = (c: Context, message: string) => c.json({ error: { code: 'bad-filter', message } }, 400);

/** `days` (the last N days up to today, default 30) or `from`/`to` (YYYY-MM-DD, inclusive). */
export function rangeFromQuery(q: (n: string) => string | undefined, today: number): DayRange {
  const from = q('from');
  const to = q('to');
  if (from || to) {
    const toDay = to ? parseDay('to', to) : today;
    const fromDay = from ? parseDay('from', from) : toDay - 29;
    if (fromDay > toDay) throw new FilterError('from', `${from} is after ${to ?? 'today'}`);
    if (toDay - fromDay > 3660) throw new FilterError('from', 'a range is at most ten years');
    return { fromDay, toDay };
  }
  const days = q('days');
  const n = days ? parseCount('days', days, 1, 3660) : 30;
  return { fromDay: today - n + 1, toDay: today };
}

function packageVersion(): string {
  try {
    const root = defaultWebRoot().replace(/[\\/]dist[\\/]web$/, '');
    return (JSON.parse(readFileSync(`${root}/package.json`, 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** @example app.route('/', uiRoutes({ store, settings, config })); */
export function uiRoutes(deps: UiRoutesDeps): Hono {
  const app = new Hono();
  const { store } = deps;
  const now = deps.now ?? (() => Math.floor(Date.now() / 1000));
  const today = () => Math.floor(now() / DAY_SECONDS);
  const startedAt = now();
  const version = packageVersion();

  const withRange = async (c: Context, fn: (range: DayRange) => Promise<Response>) => {
    let range: DayRange;
    try {
      range = rangeFromQuery((n) => c.req.query(n), today());
    } catch (e) {
      if (e instanceof FilterError) return bad(c, e.message);
      throw e;
    }
    return fn(range);
  };

  describeRoute('GET', '/api/v1/ui/overview', { summary: 'The overview page: per policy domain sessions, failure rate, trend, reporters, top failing MX and result type, warnings; the sending side', tags: ['ui'] });
  app.get('/api/v1/ui/overview', (c) => withRange(c, async (range) => c.json(await overview(store, range, today()))));

  describeRoute('GET', '/api/v1/ui/domains/:domain', { summary: 'One policy domain: daily sessions by result type, by reporter, by receiving MX and IP, by sending IP, policies seen', tags: ['ui'] });
  app.get('/api/v1/ui/domains/:domain', (c) => withRange(c, async (range) => {
    const domain = normalizeDomain(c.req.param('domain'));
    if (!domain || domain.length > 253) return bad(c, 'domain: expected a domain name');
    return c.json(await domainDetail(store, domain, range));
  }));

  describeRoute('GET', '/api/v1/ui/outbound', { summary: 'Open windows with live counts and built reports with each target state', tags: ['ui'] });
  app.get('/api/v1/ui/outbound', async (c) => {
    const domain = c.req.query('domain') || undefined;
    const [windows, reports] = await Promise.all([openWindows(store), listReports(store, { reportDomain: domain, limit: 100 })]);
    return c.json({ ...windows, reports: reports.map(reportViewToJson), now: new Date(now() * 1000).toISOString() });
  });

  const idParam = (c: Context) => {
    const text = c.req.param('id') ?? '';
    return /^\d{1,15}$/.test(text) ? Number(text) : undefined;
  };

  describeRoute('GET', '/api/v1/outbound/reports/:id/json', { summary: 'The RFC 8460 JSON of a built report (what was or will be sent)', tags: ['outbound'] });
  app.get('/api/v1/outbound/reports/:id/json', async (c) => {
    const id = idParam(c);
    const r = id === undefined ? { missing: 'no-report' as const } : await outboundReportJson(store, id);
    if ('missing' in r) {
      return c.json({ error: { code: 'not-found', message: r.missing === 'no-report' ? `no outbound report ${c.req.param('id')}` : 'that report was not built (no JSON): see its state and reason' } }, 404);
    }
    return c.body(r.json, 200, { 'content-type': 'application/tlsrpt+json', 'content-disposition': `attachment; filename="outbound-report-${id}.json"` });
  });

  describeRoute('POST', '/api/v1/outbound/reports/:id/send', { summary: 'Make a built report due now (sent once by the scheduler)', tags: ['outbound'] });
  app.post('/api/v1/outbound/reports/:id/send', async (c) => {
    const id = idParam(c);
    const r = id === undefined ? { ok: false as const, reason: 'no-report' as const } : await expediteOutboundReport(store, id, now());
    if (!r.ok) {
      return r.reason === 'no-report'
        ? c.json({ error: { code: 'not-found', message: `no outbound report ${c.req.param('id')}` } }, 404)
        : c.json({ error: { code: 'conflict', message: `report ${id} is ${r.state}: only a pending report has targets to send` } }, 409);
    }
    return c.json({ id, targetsDue: r.targets, message: 'due now: the scheduler sends it on its next pass (within 30 s)' }, 202);
  });

  describeRoute('GET', '/api/v1/ui/settings', { summary: 'The TLS report settings page: fields, defaults, values, locks', tags: ['ui'] });
  app.get('/api/v1/ui/settings', (c) => {
    const eff = deps.settings.effective();
    const fields = reportSettingsForm().map((f) => {
      const current = eff[f.singleton].fields[f.field] as { value: unknown; source: string; locked?: boolean; lockedReason?: string } | undefined;
      // `locked` comes from the settings area when the config file pins a field; passed through as given.
      return { ...f, value: current?.value ?? f.default, source: current?.source ?? 'default',
        locked: Boolean(current?.locked), ...(current?.lockedReason ? { lockedReason: current.lockedReason } : {}) };
    });
    return c.json({
      fields,
      values: { TlsReportSettings: eff.TlsReportSettings.value, ReportSettings: eff.ReportSettings.value },
      versions: { TlsReportSettings: eff.TlsReportSettings.version ?? null, ReportSettings: eff.ReportSettings.version ?? null },
      system: deps.settings.system(),
    });
  });

  describeRoute('POST', '/api/v1/settings/preview', { summary: 'Evaluate settings expressions for a recipient domain (errors with position)', tags: ['settings'] });
  app.post('/api/v1/settings/preview', async (c) => {
    let body: { rcptDomain?: unknown; TlsReportSettings?: unknown; ReportSettings?: unknown };
    try {
      body = await c.req.json();
    } catch {
      return c.json({ error: { code: 'invalid-json', message: 'expected {"rcptDomain", "TlsReportSettings"?, "ReportSettings"?}' } }, 400);
    }
    const rcptDomain = typeof body?.rcptDomain === 'string' && body.rcptDomain.trim() ? body.rcptDomain : 'example.org';
    const obj = (v: unknown) => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined);
    const system = deps.settings.system();
    return c.json(previewReportSettings(
      { rcptDomain, TlsReportSettings: obj(body.TlsReportSettings), ReportSettings: obj(body.ReportSettings) },
      { system, nodeId: system.hostname, localDomains: (deps.config?.dkim ?? []).map((d) => d.domain) },
    ));
  });

  describeRoute('GET', '/api/v1/ui/system', { summary: 'Version, uptime, enabled parts, database, queues and counters', tags: ['ui'] });
  app.get('/api/v1/ui/system', async (c) => {
    const cfg = deps.config;
    const status = await systemStatus(store);
    const metrics = await registry.getMetricsAsJSON();
    const counters = metrics
      .filter((m) => m.name.startsWith('tlsrpt_') && (m.type as unknown as string) !== 'histogram')
      .flatMap((m) => m.values.map((v) => ({ name: m.name, labels: v.labels as Record<string, string | number>, value: v.value })))
      .filter((v) => typeof v.value === 'number');
    return c.json({
      version,
      node: process.version,
      uptimeSeconds: now() - startedAt,
      startedAt: new Date(startedAt * 1000).toISOString(),
      database: store.kind,
      parts: cfg ? {
        http: { listen: cfg.http.listen, tls: Boolean(cfg.http.tls), reportPath: cfg.http.reportPath },
        collectorSocket: cfg.collector?.socket ?? null,
        smtp: cfg.smtp ? { listen: cfg.smtp.listen, lmtp: cfg.smtp.lmtp } : null,
        // Never the password.
        imap: (cfg.imap ?? []).map((a) => ({ host: a.host, port: a.port, user: a.user, mailbox: a.mailbox })),
        relay: cfg.relay ? { host: cfg.relay.host, port: cfg.relay.port } : null,
        dkimDomains: (cfg.dkim ?? []).map((d) => d.domain),
      } : null,
      status,
      counters,
    });
  });

  return app;
}
