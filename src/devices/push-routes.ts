import { type FastifyPluginAsyncTypebox, Type } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { GwError } from '../core/errors.js';
import { jsonHasNik } from '../core/nik.js';
import type { DeviceAuth } from './device-auth.js';
import type { DeviceMonitor } from './device-monitor.js';
import { DeviceParams, ErrorReply, EventsBody, EventsReply, HeartbeatBody } from './push-schemas.js';
import type { UsageIngest } from './usage-ingest.js';

export interface DevicePushOptions {
  auth: DeviceAuth;
  monitor: Pick<DeviceMonitor, 'heartbeat'>;
  ingest: Pick<UsageIngest, 'submit'>;
  /** Answers per route kind and status code, for /metrics (e.g. `events 422`). */
  answers?: Map<string, number>;
}

const errors = {
  400: ErrorReply,
  401: ErrorReply,
  404: ErrorReply,
  413: ErrorReply,
  415: ErrorReply,
  422: ErrorReply,
  429: ErrorReply,
};

/**
 * The kiosk push API (device bearer token). Order of refusals: an address that guessed too
 * often 429, then a missing or wrong token 401 — for an unknown device id too, so ids cannot
 * be listed without a token (both before the body is even parsed) — then oversized 413,
 * malformed 400, NIK-like 422, then the schema (400). Bodies are validated without type
 * coercion (build-server.ts).
 */
export const devicePushRoutes: FastifyPluginAsyncTypebox<DevicePushOptions> = async (app, opts) => {
  const authenticate = async (request: FastifyRequest) => {
    const id = (request.params as { id?: unknown }).id;
    const result = opts.auth.check(
      typeof id === 'string' ? id : '',
      request.headers.authorization,
      request.ip,
    );
    if (result === 'throttled') throw new GwError('GW_ERR_RATE_LIMITED');
    if (result === 'bad_token') throw new GwError('GW_ERR_UNAUTHORIZED', 'missing or wrong device token');
  };
  // The NIK check reads the JSON text as the kiosk sent it, before the schema: a NIK anywhere
  // (any JSON type, keys, repeated keys) is refused as such, even in a field the schema would
  // reject anyway. Only this plugin's JSON parser is replaced.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, text, done) => {
    parseJson(request, text as string, (err, body) => {
      if (err) return done(err, undefined);
      if (jsonHasNik(text as string)) return done(new GwError('GW_ERR_PII_REFUSED'), undefined);
      return done(null, body);
    });
  });
  const answers = opts.answers;
  if (answers) {
    app.addHook('onResponse', async (request, reply) => {
      const kind = request.routeOptions.url?.endsWith('/events') ? 'events' : 'heartbeat';
      const key = `${kind} ${reply.statusCode}`;
      answers.set(key, (answers.get(key) ?? 0) + 1);
    });
  }
  app.post(
    '/api/v1/devices/:id/heartbeat',
    {
      onRequest: authenticate,
      schema: { params: DeviceParams, body: HeartbeatBody, response: { 204: Type.Null(), ...errors } },
    },
    async (request, reply) => {
      opts.monitor.heartbeat(request.params.id, request.body);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/api/v1/devices/:id/events',
    {
      onRequest: authenticate,
      schema: {
        params: DeviceParams,
        body: EventsBody,
        response: { 202: EventsReply, 503: ErrorReply, 507: ErrorReply, ...errors },
      },
    },
    async (request, reply) => {
      const result = await opts.ingest.submit(request.params.id, request.body.events);
      return reply.code(202).send(result);
    },
  );
};
