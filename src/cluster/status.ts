/**
 * @module cluster/status — the nodes sharing one store, read from the node registry
 * (`outbound_collector`: one lease row per running `serve` or library collector): each node's
 * last heartbeat, the reports and targets it holds claimed, and the acknowledged event batches
 * it holds in its journal. Read by `tlsrpt cluster status` and `GET /api/v1/cluster`.
 */
import type { Store } from '../store/index.js';
import { STALE_SECONDS } from '../sending/collect/journal.js';

export { nodeNameFrom } from '../sending/collect/journal.js';

export interface ClusterNodeView {
  node: string;
  instance: string;
  claimId: string | null;
  hostname: string;
  pid: number;
  startedAt: number;
  lastHeartbeat: number;
  heartbeatAgeSeconds: number;
  /** alive: heartbeat within the lease; stale: older, so another node may take its journal over. */
  state: 'alive' | 'stale';
  claims: { reportsBuilding: number; targetsSending: number };
  journal: { rows: number; oldestMs: number | null };
}

export interface ClusterStatus {
  now: number;
  staleSeconds: number;
  nodes: ClusterNodeView[];
  /** Claims held under names no registered node has (e.g. a `tlsrpt outbound send` run). */
  otherClaims: { claimedBy: string; reportsBuilding: number; targetsSending: number }[];
  /** Journal rows whose owner left the registry: the next heartbeat of any node replays them. */
  unownedJournalRows: number;
  totals: { openWindows: number; reportsBuilding: number; reportsPending: number; targetsOutstanding: number };
}


/**
 * Reads the registry and what each node holds.
 * @example
 * const s = await clusterStatus(store);
 * for (const n of s.nodes) console.log(n.node, n.state, n.claims, n.journal.rows);
 */
export async function clusterStatus(store: Store, nowSec = Math.floor(Date.now() / 1000)): Promise<ClusterStatus> {
  const db = store.db;
  const nodes = await db.selectFrom('outbound_collector').selectAll().orderBy('node_name').orderBy('started_at').execute();
  const journal = await db.selectFrom('outbound_journal')
    .select((eb) => ['instance_id', eb.fn.countAll<number>().as('n'), eb.fn.min('created_at_ms').as('oldest')])
    .groupBy('instance_id').execute();
  const reportClaims = await db.selectFrom('outbound_report')
    .select((eb) => ['claimed_by', eb.fn.countAll<number>().as('n')])
    .where('state', '=', 'building').where('claimed_by', 'is not', null).where('claimed_until', '>=', nowSec)
    .groupBy('claimed_by').execute();
  const targetClaims = await db.selectFrom('outbound_target')
    .select((eb) => ['claimed_by', eb.fn.countAll<number>().as('n')])
    .where('state', 'in', ['pending', 'retrying']).where('claimed_by', 'is not', null).where('claimed_until', '>=', nowSec)
    .groupBy('claimed_by').execute();
  const count = async (q: Promise<{ n: number | string | bigint } | undefined>) => Number((await q)?.n ?? 0);
  const openWindows = await count(db.selectFrom('outbound_window').select((eb) => eb.fn.countAll<number>().as('n')).where('state', '=', 'open').executeTakeFirst());
  const building = await count(db.selectFrom('outbound_report').select((eb) => eb.fn.countAll<number>().as('n')).where('state', '=', 'building').executeTakeFirst());
  const pending = await count(db.selectFrom('outbound_report').select((eb) => eb.fn.countAll<number>().as('n')).where('state', '=', 'pending').executeTakeFirst());
  const outstanding = await count(db.selectFrom('outbound_target').select((eb) => eb.fn.countAll<number>().as('n')).where('state', 'in', ['pending', 'retrying']).executeTakeFirst());

  const journalBy = new Map(journal.map((j) => [j.instance_id, { rows: Number(j.n), oldestMs: j.oldest === null ? null : Number(j.oldest) }]));
  const reportsBy = new Map(reportClaims.map((r) => [r.claimed_by as string, Number(r.n)]));
  const targetsBy = new Map(targetClaims.map((r) => [r.claimed_by as string, Number(r.n)]));
  const known = new Set<string>();
  const views: ClusterNodeView[] = nodes.map((n) => {
    const claimId = n.claim_id ?? n.instance_id;
    known.add(claimId);
    const age = Math.max(0, nowSec - Number(n.heartbeat_at));
    return {
      node: n.node_name ?? n.hostname,
      instance: n.instance_id,
      claimId: n.claim_id,
      hostname: n.hostname,
      pid: Number(n.pid),
      startedAt: Number(n.started_at),
      lastHeartbeat: Number(n.heartbeat_at),
      heartbeatAgeSeconds: age,
      state: age > STALE_SECONDS ? 'stale' : 'alive',
      // A node that rejoined after being fenced has two rows with one claim name: counted once, on the newest.
      claims: { reportsBuilding: 0, targetsSending: 0 },
      journal: journalBy.get(n.instance_id) ?? { rows: 0, oldestMs: null },
    };
  });
  for (const claimId of known) {
    const newest = views.filter((v) => (v.claimId ?? v.instance) === claimId).sort((a, b) => b.startedAt - a.startedAt)[0];
    if (newest) newest.claims = { reportsBuilding: reportsBy.get(claimId) ?? 0, targetsSending: targetsBy.get(claimId) ?? 0 };
  }
  const registered = new Set(nodes.map((n) => n.instance_id));
  const others = new Set([...reportsBy.keys(), ...targetsBy.keys()].filter((c) => !known.has(c)));
  return {
    now: nowSec,
    staleSeconds: STALE_SECONDS,
    nodes: views,
    otherClaims: [...others].sort().map((c) => ({ claimedBy: c, reportsBuilding: reportsBy.get(c) ?? 0, targetsSending: targetsBy.get(c) ?? 0 })),
    unownedJournalRows: journal.filter((j) => !registered.has(j.instance_id)).reduce((s, j) => s + Number(j.n), 0),
    totals: { openWindows, reportsBuilding: building, reportsPending: pending, targetsOutstanding: outstanding },
  };
}

const iso = (sec: number) => new Date(sec * 1000).toISOString().replace('.000Z', 'Z');

/** The JSON document of the CLI's `--json` and of `GET /api/v1/cluster` (kebab-case like the rest of the API). */
export function clusterStatusToJson(s: ClusterStatus): Record<string, unknown> {
  return {
    'generated-at': iso(s.now),
    'stale-after-seconds': s.staleSeconds,
    nodes: s.nodes.map((n) => ({
      node: n.node, instance: n.instance, 'claim-id': n.claimId, hostname: n.hostname, pid: n.pid,
      'started-at': iso(n.startedAt), 'last-heartbeat': iso(n.lastHeartbeat), 'heartbeat-age-seconds': n.heartbeatAgeSeconds, state: n.state,
      claims: { 'reports-building': n.claims.reportsBuilding, 'targets-sending': n.claims.targetsSending },
      journal: { rows: n.journal.rows, oldest: n.journal.oldestMs === null ? null : new Date(n.journal.oldestMs).toISOString() },
    })),
    'other-claims': s.otherClaims.map((c) => ({ 'claimed-by': c.claimedBy, 'reports-building': c.reportsBuilding, 'targets-sending': c.targetsSending })),
    'unowned-journal-rows': s.unownedJournalRows,
    totals: {
      'open-windows': s.totals.openWindows, 'reports-building': s.totals.reportsBuilding,
      'reports-pending': s.totals.reportsPending, 'targets-outstanding': s.totals.targetsOutstanding,
    },
  };
}

/** The human-readable table of `tlsrpt cluster status`. */
export function clusterStatusText(s: ClusterStatus): string {
  const lines = [`${s.nodes.length} node(s); a node is stale after ${s.staleSeconds} s without a heartbeat`];
  const header = ['NODE', 'STATE', 'HEARTBEAT', 'PID', 'BUILDING', 'SENDING', 'JOURNAL'];
  const rows: string[][] = [header];
  for (const n of s.nodes) {
    rows.push([n.node, n.state, `${n.heartbeatAgeSeconds}s ago`, `${n.hostname}:${n.pid}`, String(n.claims.reportsBuilding), String(n.claims.targetsSending), String(n.journal.rows)]);
  }
  const widths = header.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  for (const r of rows) lines.push(r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd());
  for (const c of s.otherClaims) lines.push(`claims of ${c.claimedBy} (not a registered node): ${c.reportsBuilding} building, ${c.targetsSending} sending`);
  if (s.unownedJournalRows) lines.push(`${s.unownedJournalRows} journal row(s) without a live owner: the next heartbeat of any node replays them`);
  const t = s.totals;
  lines.push(`open windows ${t.openWindows}, reports building ${t.reportsBuilding}, pending ${t.reportsPending}, targets outstanding ${t.targetsOutstanding}`);
  return lines.join('\n');
}
