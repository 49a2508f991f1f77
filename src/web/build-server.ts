import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import type { Logger } from '../core/logger.js';
import { type DevicePushOptions, devicePushRoutes } from '../devices/push-routes.js';
import { installErrorHandlers } from './error-handler.js';
import { healthRoutes } from './health-routes.js';

export const BODY_LIMIT = 256 * 1024;

export interface WebDeps {
  log: Logger;
  dbOk(): boolean;
  /** Kiosk push API (device tokens); technician device routes are mounted by the web module. */
  devicePush?: DevicePushOptions;
}

/** The HTTP app, not listening: tests call `inject()`; HttpService listens. */
export function buildServer(deps: WebDeps): FastifyInstance {
  const app = Fastify({
    loggerInstance: deps.log as FastifyBaseLogger,
    // Per-request log lines would flood journald and the SD card; errors are logged.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT,
    forceCloseConnections: true,
    return503OnClosing: true,
    requestTimeout: 30_000,
    ajv: { customOptions: { allErrors: false, removeAdditional: false, coerceTypes: 'array' } },
  }).withTypeProvider<TypeBoxTypeProvider>();
  installErrorHandlers(app);
  app.register(healthRoutes, { dbOk: deps.dbOk });
  if (deps.devicePush) app.register(devicePushRoutes, deps.devicePush);
  return app;
}
