import type { FastifyPluginAsync } from 'fastify';
import { GwError } from '../../core/errors.js';
import type { VillageRegistry } from '../villages.js';
import type { AlertRepo } from './alert-repo.js';
import type { Hook } from './alert-watch.js';

const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 200;

/**
 * GET /api/v1/alerts[?limit=N]: the webhook queue as the NOC sees it: counts by state and the
 * newest alerts with their delivery state, attempts and last error. A hook is named by its
 * position and host only (its URL may hold a token in the path); no alert body.
 */
export function alertRoutes(d: {
  repo: AlertRepo;
  hooks: readonly Hook[];
  registry: VillageRegistry;
}): FastifyPluginAsync {
  const hookName = new Map(d.hooks.map((h) => [h.key, `#${h.index + 1} ${h.host}`]));
  return async (app) => {
    app.get('/api/v1/alerts', async (request, reply) => {
      const raw = (request.query as Record<string, unknown>).limit;
      const limit = raw === undefined ? DEFAULT_LIMIT : Number(raw);
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT)
        throw new GwError('GW_ERR_VALIDATION', `limit must be a whole number from 1 to ${MAX_LIMIT}`);
      const [counts, rows] = await Promise.all([d.repo.counts(), d.repo.recent(limit)]);
      reply.header('cache-control', 'no-store');
      return {
        hooks: d.hooks.length,
        counts,
        alerts: rows.map((r) => ({
          id: r.id,
          kind: r.kind,
          village: { code: r.gw, name: d.registry.get(r.gw)?.name ?? null },
          // A hook removed from the config since: its queued alerts still show, unnamed.
          hook: hookName.get(r.hook) ?? null,
          state: r.state,
          attempts: r.attempts,
          created: new Date(r.created_ms).toISOString(),
          sent: r.sent_ms === null ? null : new Date(r.sent_ms).toISOString(),
          next_try: r.state === 'pending' ? new Date(r.next_ms).toISOString() : null,
          last_error: r.last_error,
        })),
      };
    });
  };
}
