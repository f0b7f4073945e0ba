/**
 * @module http/routes/cluster — `GET /api/v1/cluster` (token-protected under /api): the nodes
 * sharing the store with their last heartbeat, claims and journal rows (cluster/status).
 */
import { Hono } from 'hono';
import type { Store } from '../../store/index.js';
import { clusterStatus, clusterStatusToJson } from '../../cluster/status.js';

export function clusterRoutes(deps: { store: Store; clock?: () => number }): Hono {
  const app = new Hono();
  app.get('/api/v1/cluster', async (c) => {
    const now = deps.clock ? deps.clock() : Math.floor(Date.now() / 1000);
    return c.json(clusterStatusToJson(await clusterStatus(deps.store, now)));
  });
  return app;
}
