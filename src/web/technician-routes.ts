import type { FastifyPluginAsync } from 'fastify';
import { actionRoutes } from './action-routes.js';
import { sessionGuard } from './auth/guard.js';
import { bundleRoutes } from './bundle-routes.js';
import { statusRoutes } from './status-routes.js';
import type { TechnicianDeps } from './technician-context.js';

/**
 * The guarded context: every route registered in here, ours and other modules', answers 401
 * without a valid session, and 403 on a state change without the CSRF token or from another
 * origin. Encapsulation makes that structural rather than per-route.
 */
export const technicianRoutes: FastifyPluginAsync<{ d: TechnicianDeps }> = async (app, { d }) => {
  app.decorateRequest('technician', null);
  app.addHook('preHandler', sessionGuard(d.auth));
  app.addHook('onSend', async (_request, reply, payload) => {
    reply.header('cache-control', reply.getHeader('cache-control') ?? 'no-store');
    return payload;
  });
  await app.register(statusRoutes, { d });
  await app.register(actionRoutes, { d });
  await app.register(bundleRoutes, { d });
  for (const plugin of d.technicianRoutes) await app.register(plugin);
};
