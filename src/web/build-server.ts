import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import type { CacheService } from '../cache/cache-service.js';
import { outboundRoutes } from '../cache/outbound-routes.js';
import { svcRoutes } from '../cache/svc-routes.js';
import type { Logger } from '../core/logger.js';
import { type DevicePushOptions, devicePushRoutes } from '../devices/push-routes.js';
import { installErrorHandlers } from './error-handler.js';
import { healthRoutes } from './health-routes.js';
import { type MetricsSource, metricsRoutes } from './metrics-routes.js';

export const BODY_LIMIT = 256 * 1024;

export interface WebDeps {
  log: Logger;
  dbOk(): boolean;
  /** Prometheus exposition; absent when `http.metrics` is off (GET /metrics is then 404). */
  metrics?: MetricsSource;
  /** Called when a request failed with a full disk, so later writes are refused up front. */
  onDiskFull?(): void;
  /** The /svc cache and write queue (absent in tests that do not need it). */
  cache?: CacheService;
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
  installErrorHandlers(app, { onDiskFull: deps.onDiskFull });
  app.register(healthRoutes, { dbOk: deps.dbOk });
  if (deps.metrics) app.register(metricsRoutes, { metrics: deps.metrics });
  if (deps.cache) {
    app.register(svcRoutes, { cache: deps.cache });
    app.register(outboundRoutes, { cache: deps.cache });
  }
  if (deps.devicePush) app.register(devicePushRoutes, deps.devicePush);
  return app;
}
