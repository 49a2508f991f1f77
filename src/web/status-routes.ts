import { type FastifyPluginAsyncTypebox, Type } from '@fastify/type-provider-typebox';
import { GwError } from '../core/errors.js';
import { LOG_LEVELS, type LogLevel } from '../core/logger.js';
import { sessionToken } from './auth/guard.js';
import type { TechnicianDeps } from './technician-context.js';

const Err = Type.Object({ error: Type.String(), message: Type.String() });
const Anything = Type.Object({}, { additionalProperties: true });

/** Status snapshot, recent alerts, recent log lines and the live feed. Inside the guard. */
export const statusRoutes: FastifyPluginAsyncTypebox<{ d: TechnicianDeps }> = async (app, { d }) => {
  app.get('/api/v1/status', { schema: { response: { 200: Anything } } }, async () => d.status.snapshot());

  app.get(
    '/api/v1/alerts',
    {
      schema: {
        querystring: Type.Object(
          { limit: Type.Integer({ minimum: 1, maximum: 500, default: 100 }) },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ alerts: Type.Array(Anything) }) },
      },
    },
    async (request) => ({
      alerts: d.alerts.recent(request.query.limit).map((a) => ({
        ...a,
        at: new Date(a.at_wall).toISOString(),
      })),
    }),
  );

  // Who logged in and what they ran: for the technician who arrives after a colleague.
  app.get(
    '/api/v1/audit',
    {
      schema: {
        querystring: Type.Object(
          { limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }) },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ entries: Type.Array(Anything) }) },
      },
    },
    async (request) => ({ entries: d.auth.audit.recent(request.query.limit) }),
  );

  app.get(
    '/api/v1/log',
    {
      schema: {
        querystring: Type.Object(
          {
            level: Type.Union(
              LOG_LEVELS.map((l) => Type.Literal(l)),
              { default: 'info' },
            ),
            limit: Type.Integer({ minimum: 1, maximum: 500, default: 200 }),
            after: Type.Integer({ minimum: 0, default: 0 }),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            available: Type.Boolean(),
            lines: Type.Array(Type.Object({ seq: Type.Integer(), level: Type.String(), line: Anything })),
          }),
        },
      },
    },
    async (request) => {
      const { level, limit, after } = request.query;
      if (!d.logRing) return { available: false, lines: [] };
      return { available: true, lines: d.logRing.lines(level as LogLevel, limit, after) };
    },
  );

  app.get(
    '/api/v1/events',
    { schema: { response: { 200: Type.String({ description: 'text/event-stream' }), 503: Err } } },
    async (request, reply) => {
      if (d.live.full()) throw new GwError('GW_ERR_TOO_MANY_CLIENTS');
      const token = sessionToken(request) ?? '';
      reply.hijack();
      // Re-checked every tick without refreshing the idle timer: an open tab is not activity.
      d.live.add(reply.raw, () => d.auth.validate(token, false) !== undefined);
    },
  );
};
