import { type FastifyPluginAsyncTypebox, Type } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { GwError } from '../core/errors.js';
import type { DeviceAuth } from './device-auth.js';
import type { DeviceMonitor } from './device-monitor.js';
import { containsNikLike } from './pii.js';
import { DeviceParams, ErrorReply, EventsBody, EventsReply, HeartbeatBody } from './push-schemas.js';
import type { UsageIngest } from './usage-ingest.js';

export interface DevicePushOptions {
  auth: DeviceAuth;
  monitor: Pick<DeviceMonitor, 'heartbeat'>;
  ingest: Pick<UsageIngest, 'submit'>;
}

const errors = {
  400: ErrorReply,
  401: ErrorReply,
  404: ErrorReply,
  413: ErrorReply,
  415: ErrorReply,
  422: ErrorReply,
};

/**
 * The kiosk push API (device bearer token). Order of refusals: unknown device 404, bad token
 * 401 (both before the body is even parsed), oversized 413, malformed 400, NIK-like 422.
 */
export const devicePushRoutes: FastifyPluginAsyncTypebox<DevicePushOptions> = async (app, opts) => {
  const authenticate = async (request: FastifyRequest) => {
    const id = (request.params as { id?: unknown }).id;
    const result = opts.auth.check(typeof id === 'string' ? id : '', request.headers.authorization);
    if (result === 'unknown_device') throw new GwError('GW_ERR_NOT_FOUND', 'unknown device');
    if (result === 'bad_token') throw new GwError('GW_ERR_UNAUTHORIZED', 'missing or wrong device token');
  };
  // Checked on the parsed body before the schema: a NIK anywhere is refused as such, even
  // in a field the schema would reject anyway.
  const refusePii = async (request: FastifyRequest) => {
    if (containsNikLike(request.body)) throw new GwError('GW_ERR_PII_REFUSED');
  };

  app.post(
    '/api/v1/devices/:id/heartbeat',
    {
      onRequest: authenticate,
      preValidation: refusePii,
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
      preValidation: refusePii,
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
