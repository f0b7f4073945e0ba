/**
 * @module http/routes/cluster — `GET /api/v1/cluster` (token-protected under /api): the nodes
 * sharing the store with their last heartbeat, claims and journal rows (cluster/status).
 */
import { Hono } from 'hono';
import type { Store } from '../../store/index.js';
import { clusterStatus, clusterStatusToJson } from '../../cluster/status.js';
import { describeRoute } from '../openapi.js';

export function clusterRoutes(deps: { store: Store; clock?: () => number }): Hono {
  const app = new Hono();
  app.get('/api/v1/cluster', async (c) => {
    const now = deps.clock ? deps.clock() : Math.floor(Date.now() / 1000);
    return c.json(clusterStatusToJson(await clusterStatus(deps.store, now)));
  });
  describeRoute('GET', '/api/v1/cluster', { summary: 'The nodes sharing the store: last heartbeat, claims and journal rows', tags: ['meta'], responses: { 200: 'the cluster status' } });
  return app;
}
