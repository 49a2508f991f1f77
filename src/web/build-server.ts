import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyPluginAsync,
  LogController,
} from 'fastify';
import type { Logger } from '../core/logger.js';
import { authRoutes } from './auth/auth-routes.js';
import { clientErrorHandler, installErrorHandlers } from './error-handler.js';
import { type FastPath, fastPathServer } from './fast-path.js';
import { healthRoutes } from './health-routes.js';
import { type MetricsSource, metricsRoutes } from './metrics-routes.js';
import { serializerCompiler } from './serializer-compiler.js';
import { staticRoutes } from './static-routes.js';
import type { TechnicianDeps } from './technician-context.js';
import { technicianRoutes } from './technician-routes.js';
import { validatorCompiler } from './validator-compiler.js';

export const BODY_LIMIT = 256 * 1024;

export interface WebDeps {
  log: Logger;
  dbOk(): boolean;
  /** The broker connection, shown by /healthz (SPEC: liveness never depends on it). */
  mqttConnected?(): boolean;
  /** Prometheus exposition; absent when `http.metrics` is off (GET /metrics is then 404). */
  metrics?: MetricsSource;
  /** Called when a request failed with a full disk, so later writes are refused up front. */
  onDiskFull?(): void;
  /** The technician page and its API; without it only the health routes exist. */
  technician?: TechnicianDeps;
  /**
   * Unauthenticated plugins of the modules (the kiosk push API and /svc, each with its own
   * bearer-token auth), from their descriptors' `publicRoutes`.
   */
  publicRoutes?: readonly FastifyPluginAsync[];
  /** Requests answered before fastify routes them (fast-path.ts), from the descriptors' `fastPaths`. */
  fastPaths?: readonly FastPath[];
  /** Serve HTTPS with this certificate and key (the regency's page and bundle fetches). */
  https?: { cert: Buffer; key: Buffer };
}

/** The page's Content-Security-Policy (the technician page and the regency's fleet page). */
export const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

/** The HTTP app, not listening: tests call `inject()`; HttpService listens. */
export function buildServer(deps: WebDeps): FastifyInstance {
  const fastPaths = deps.fastPaths ?? [];
  let closing = false;
  const app = Fastify({
    ...(fastPaths.length > 0 ? { serverFactory: fastPathServer(fastPaths, () => closing, deps.log) } : {}),
    // The same request handling either way; only the socket is wrapped in TLS.
    ...((deps.https ? { https: { ...deps.https, minVersion: 'TLSv1.2' } } : {}) as object),
    loggerInstance: deps.log as FastifyBaseLogger,
    // Per-request log lines would flood journald and the SD card; errors are logged.
    logController: new LogController({ disableRequestLogging: true }),
    // No per-request child logger: request logs are rare (errors only) and a child per request
    // is measurable on the kiosk hot paths (/svc hits, event ingest).
    childLoggerFactory: (logger) => logger,
    bodyLimit: BODY_LIMIT,
    forceCloseConnections: true,
    return503OnClosing: true,
    // A socket that sends nothing, or half a header, is answered 408 and closed after
    // headersTimeout (checked every 2 s); an idle keep-alive socket after keepAliveTimeout; any
    // socket silent for connectionTimeout (the live feed writes every 5 s).
    requestTimeout: 30_000,
    keepAliveTimeout: 5_000,
    connectionTimeout: 120_000,
    http: { headersTimeout: 10_000, requestTimeout: 30_000, connectionsCheckingInterval: 2_000 },
    clientErrorHandler,
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.setValidatorCompiler(validatorCompiler());
  app.setSerializerCompiler(serializerCompiler());
  // fastify's own closing flag is set just before: from here on fastify answers everything (503).
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  installErrorHandlers(app, { onDiskFull: deps.onDiskFull });
  // No route reads text/plain: such bodies get 415 like form and multipart bodies, not a 400
  // from a schema that never expected a string.
  app.removeContentTypeParser('text/plain');
  app.register(healthRoutes, {
    dbOk: deps.dbOk,
    ...(deps.mqttConnected ? { mqttConnected: deps.mqttConnected } : {}),
  });
  if (deps.metrics) app.register(metricsRoutes, { metrics: deps.metrics });
  for (const plugin of deps.publicRoutes ?? []) app.register(plugin);
  const t = deps.technician;
  if (t) {
    // The page's security headers belong to the page and its API only: /svc relays upstream
    // content to kiosks, and the kiosk hot paths should not pay for a hook they do not need.
    app.register(async (page) => {
      page.addHook('onSend', async (_request, reply, payload) => {
        reply.header('x-content-type-options', 'nosniff');
        reply.header('referrer-policy', 'no-referrer');
        reply.header('x-frame-options', 'DENY');
        reply.header('content-security-policy', CSP);
        return payload;
      });
      await page.register(authRoutes, {
        auth: t.auth,
        gatewayId: t.config.gateway.id,
        gatewayName: t.config.gateway.name,
      });
      await page.register(technicianRoutes, { d: t });
      await page.register(staticRoutes, { dir: t.staticDir });
    });
  }
  return app;
}
