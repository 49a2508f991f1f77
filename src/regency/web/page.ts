import type { FastifyPluginAsync } from 'fastify';
import { OWN_FILES } from '../../paths.js';
import { CSP } from '../../web/build-server.js';
import { staticRoutes } from '../../web/static-routes.js';
import { guardedRoutes, sessionRoutes } from '../auth/account-routes.js';
import type { RegencyAuth } from '../auth/regency-auth.js';

/** dist/regency/static, built by scripts/build-web.mjs next to the technician page. */
export const REGENCY_STATIC_DIR = OWN_FILES.regencyStatic;

export interface FleetPageDeps {
  auth: RegencyAuth;
  regencyName: string;
  /**
   * The fleet page's API: each plugin is registered behind the account guard (session;
   * CSRF + same-origin on state changes). Fleet, villages, reports and commands go here.
   */
  accountRoutes: readonly FastifyPluginAsync[];
  staticDir?: string;
}

/**
 * The fleet page and its API in one encapsulated context: security headers on all of it,
 * the session routes open, the account routes guarded, and the built page at `/`.
 */
export function fleetPage(deps: FleetPageDeps): FastifyPluginAsync {
  return async (app) => {
    app.addHook('onSend', async (_request, reply, payload) => {
      reply.header('x-content-type-options', 'nosniff');
      reply.header('referrer-policy', 'no-referrer');
      reply.header('x-frame-options', 'DENY');
      reply.header('content-security-policy', CSP);
      return payload;
    });
    await app.register(sessionRoutes, { auth: deps.auth, regencyName: deps.regencyName });
    await app.register(guardedRoutes(deps.auth, deps.accountRoutes));
    await app.register(staticRoutes, { dir: deps.staticDir ?? REGENCY_STATIC_DIR });
  };
}
