import { type FastifyPluginAsyncTypebox, Type } from '@fastify/type-provider-typebox';
import { GwError } from '../../core/errors.js';
import { type AuthService, NAME_PATTERN, type NewSession } from './auth-service.js';
import { checkCsrf, checkOrigin, sessionCookie, sessionToken } from './guard.js';

export interface AuthRoutesOptions {
  auth: AuthService;
  gatewayName: string;
  gatewayId: string;
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
  gateway: Type.Object({ id: Type.String(), name: Type.String() }),
  name: Type.Optional(Type.String()),
  csrf: Type.Optional(Type.String()),
  idle_s: Type.Optional(Type.Integer()),
});
const errors = { 400: Err, 401: Err, 403: Err, 429: Err };

/** Setup, login, logout and "who am I": the only /api/v1 routes that answer without a session. */
export const authRoutes: FastifyPluginAsyncTypebox<AuthRoutesOptions> = async (app, opts) => {
  const { auth } = opts;
  const idleS = (s: { idleMs: number }) => Math.round(s.idleMs / 1000);

  const start = (
    reply: import('fastify').FastifyReply,
    request: import('fastify').FastifyRequest,
    s: NewSession,
  ) => {
    reply.header('set-cookie', sessionCookie(request, s.token));
    reply.header('cache-control', 'no-store');
    const info = auth.validate(s.token);
    return { name: s.name, csrf: s.csrf, idle_s: info ? idleS(info) : 0 };
  };

  app.post(
    '/api/v1/setup',
    {
      schema: {
        body: Type.Object(
          { code: Type.String({ minLength: 1, maxLength: 32 }), ...Credentials },
          {
            additionalProperties: false,
          },
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
    const token = sessionToken(request);
    const s = token ? auth.validate(token) : undefined;
    const base = {
      setup_pending: auth.setupPending(),
      gateway: { id: opts.gatewayId, name: opts.gatewayName },
    };
    if (!token || !s) return { authenticated: false, ...base };
    return { authenticated: true, ...base, name: s.name, csrf: auth.csrfFor(token), idle_s: idleS(s) };
  });

  app.delete(
    '/api/v1/session',
    { schema: { response: { 204: Type.Null(), ...errors } } },
    async (request, reply) => {
      checkOrigin(request);
      const token = sessionToken(request);
      if (!token || !auth.validate(token)) throw new GwError('GW_ERR_UNAUTHORIZED');
      checkCsrf(request, auth, token);
      auth.logout(token, request.ip);
      reply.header('set-cookie', sessionCookie(request, null));
      return reply.code(204).send(null);
    },
  );
};
