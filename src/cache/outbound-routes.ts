import { type FastifyPluginAsyncTypebox, Type } from '@fastify/type-provider-typebox';
import { GwError } from '../core/errors.js';
import type { CacheService } from './cache-service.js';

const ErrorReply = Type.Object({ error: Type.String(), message: Type.String() });
const OutboundReply = Type.Object({
  id: Type.String(),
  upstream: Type.String(),
  state: Type.Union([Type.Literal('queued'), Type.Literal('delivered'), Type.Literal('failed')]),
  tries: Type.Integer(),
  created_at: Type.String(),
  done_at: Type.Union([Type.String(), Type.Null()]),
  last_error: Type.Union([Type.String(), Type.Null()]),
  response: Type.Union([
    Type.Object({
      status: Type.Integer(),
      content_type: Type.String(),
      body: Type.String(),
      encoding: Type.Union([Type.Literal('utf8'), Type.Literal('base64')]),
    }),
    Type.Null(),
  ]),
});

/** GET /api/v1/outbound/{id}: a kiosk asks what became of its queued write (only its own). */
export const outboundRoutes: FastifyPluginAsyncTypebox<{ cache: CacheService }> = async (app, { cache }) => {
  app.get(
    '/api/v1/outbound/:id',
    {
      schema: {
        params: Type.Object({ id: Type.String({ pattern: '^[0-9a-f-]{36}$' }) }),
        response: { 200: OutboundReply, '4xx': ErrorReply },
      },
    },
    async (request) => {
      if (cache.auth.blocked(request.ip)) throw new GwError('GW_ERR_RATE_LIMITED');
      const device = cache.auth.authenticate(request.headers.authorization, request.ip);
      if (!device) throw new GwError('GW_ERR_UNAUTHORIZED', 'a valid device bearer token is required');
      const row = cache.writes.status(request.params.id);
      if (!row || row.device_id !== device) throw new GwError('GW_ERR_NOT_FOUND', 'no such queued write');
      const text =
        row.result_body && /^(text\/|application\/([a-z.+-]*json|xml))/i.test(row.result_type ?? '');
      return {
        id: row.id,
        upstream: row.upstream,
        state: row.state,
        tries: row.tries,
        created_at: new Date(row.created_wall).toISOString(),
        done_at: row.done_wall === null ? null : new Date(row.done_wall).toISOString(),
        last_error: row.last_error,
        response:
          row.result_status === null
            ? null
            : {
                status: row.result_status,
                content_type: row.result_type ?? 'application/octet-stream',
                body: (row.result_body ?? Buffer.alloc(0)).toString(text ? 'utf8' : 'base64'),
                encoding: text ? ('utf8' as const) : ('base64' as const),
              },
      };
    },
  );
};
