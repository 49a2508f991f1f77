import { type FastifyPluginAsyncTypebox, Type } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { GwError } from '../../core/errors.js';
import { NAME_PATTERN } from '../../web/auth/auth-service.js';
import { checkCsrf, checkOrigin, sessionCookie, sessionToken } from '../../web/auth/guard.js';
import type { NewSession, RegencyAuth, RegencySession } from './regency-auth.js';

/** Its own name: cookies ignore ports, and a gateway may run on the same host. */
export const REGENCY_COOKIE = 'kgw_regency_session';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the account guard on the fleet page's API. */
    account: RegencySession | null;
  }
}

const Err = Type.Object({ error: Type.String(), message: Type.String() });
const Credentials = {
  name: Type.String({ pattern: NAME_PATTERN, maxLength: 32 }),
  password: Type.String({ minLength: 1, maxLength: 256 }),
};
const SessionReply = Type.Object({ name: Type.String(), csrf: Type.String(), idle_s: Type.Integer() });
const WhoAmI = Type.Object({
  authenticated: Type.Boolean(),
  setup_pending: Type.Boolean(),
  regency: Type.Object({ name: Type.String() }),
  name: Type.Optional(Type.String()),
  role: Type.Optional(Type.String()),
  csrf: Type.Optional(Type.String()),
  idle_s: Type.Optional(Type.Integer()),
});
const errors = { 400: Err, 401: Err, 403: Err, 429: Err };

export interface AccountRoutesOptions {
  auth: RegencyAuth;
  regencyName: string;
}

/** Setup, login, logout and "who am I": the only /api/v1 routes answering without a session. */
export const sessionRoutes: FastifyPluginAsyncTypebox<AccountRoutesOptions> = async (app, opts) => {
  const { auth } = opts;
  const start = (reply: FastifyReply, request: FastifyRequest, s: NewSession) => {
    reply.header('set-cookie', sessionCookie(request, s.token, REGENCY_COOKIE));
    reply.header('cache-control', 'no-store');
    return { name: s.name, csrf: s.csrf, idle_s: Math.round(auth.idleMs / 1000) };
  };

  app.post(
    '/api/v1/setup',
    {
      schema: {
        body: Type.Object(
          { code: Type.String({ minLength: 1, maxLength: 32 }), ...Credentials },
          { additionalProperties: false },
        ),
        response: { 201: SessionReply, ...errors },
      },
    },
    async (request, reply) => {
      checkOrigin(request);
      const { code, name, password } = request.body;
      const s = await auth.setup(code, name, password, request.ip);
      return reply.code(201).send(start(reply, request, s));
    },
  );

  app.post(
    '/api/v1/session',
    {
      schema: {
        body: Type.Object(Credentials, { additionalProperties: false }),
        response: { 200: SessionReply, ...errors },
      },
    },
    async (request, reply) => {
      checkOrigin(request);
      const s = await auth.login(request.body.name, request.body.password, request.ip);
      return reply.send(start(reply, request, s));
    },
  );

  app.get('/api/v1/session', { schema: { response: { 200: WhoAmI } } }, async (request, reply) => {
    reply.header('cache-control', 'no-store');
    const token = sessionToken(request, REGENCY_COOKIE);
    const s = token ? await auth.validate(token) : undefined;
    const base = { setup_pending: await auth.setupPending(), regency: { name: opts.regencyName } };
    if (!token || !s) return { authenticated: false, ...base };
    return {
      authenticated: true,
      ...base,
      name: s.name,
      role: s.role,
      csrf: auth.csrfFor(token),
      idle_s: Math.round(s.idleMs / 1000),
    };
  });

  app.delete(
    '/api/v1/session',
    { schema: { response: { 204: Type.Null(), ...errors } } },
    async (request, reply) => {
      checkOrigin(request);
      const token = sessionToken(request, REGENCY_COOKIE);
      if (!token || !(await auth.validate(token))) throw new GwError('GW_ERR_UNAUTHORIZED');
      checkCsrf(request, auth, token);
      await auth.logout(token, request.ip);
      reply.header('set-cookie', sessionCookie(request, null, REGENCY_COOKIE));
      return reply.code(204).send(null);
    },
  );
};

/**
 * The account guard: every plugin in `routes` is registered inside one encapsulated context
 * whose preHandler wants a valid session (401 otherwise), and on state-changing methods a
 * same-origin Origin and the session's X-CSRF-Token (403 otherwise). A route plugin put in
 * the list does nothing itself to be protected.
 */
export function guardedRoutes(auth: RegencyAuth, routes: readonly FastifyPluginAsync[]): FastifyPluginAsync {
  return async (app) => {
    app.decorateRequest('account', null);
    // onRequest, before the body is read and validated: without a session, every answer is 401.
    app.addHook('onRequest', async (request) => {
      const token = sessionToken(request, REGENCY_COOKIE);
      const session = token ? await auth.validate(token) : undefined;
      if (!token || !session) throw new GwError('GW_ERR_UNAUTHORIZED');
      request.account = session;
      if (SAFE_METHODS.has(request.method)) return;
      checkOrigin(request);
      checkCsrf(request, auth, token);
    });
    for (const plugin of routes) await app.register(plugin);
  };
}
