import type { FastifyPluginAsync } from 'fastify';
import type { FleetVillage } from './fleet.js';

/**
 * GET /api/v1/fleet: every village of the registry, then every unknown one that reported.
 * (The account guard of the fleet page wraps this route once the page exists.)
 */
export function fleetRoutes(deps: { fleet(): Promise<FleetVillage[]> }): FastifyPluginAsync {
  return async (app) => {
    app.get('/api/v1/fleet', async (_request, reply) => {
      const villages = await deps.fleet();
      return reply.header('cache-control', 'no-store').send(villages);
    });
  };
}
