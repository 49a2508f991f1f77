import type { FastifyInstance } from 'fastify';
import type { Config } from '../config/schema.js';
import { defineModule } from '../modules/contract.js';
import { OWN_FILES } from '../paths.js';
import { GatewayMetrics } from '../system/metrics.js';
import { ActionRegistry } from './action-registry.js';
import { AuthService } from './auth/auth-service.js';
import { buildServer } from './build-server.js';
import { HttpService } from './http-service.js';
import { LiveHub } from './live-hub.js';

export interface WebProvides {
  server: FastifyInstance;
  http: HttpService;
}

declare module '../modules/contract.js' {
  interface ModuleProvides {
    web: WebProvides;
  }
}

const DEFAULT_STATIC_DIR = OWN_FILES.technicianStatic;

/**
 * HTTP: health and metrics, the public routes of the modules listed before this one, and the
 * technician page with its API, the modules' technician routes behind the session guard, the
 * operations' page views and the bundle. Listed last: it mounts what the others declared.
 */
export const webModule = defineModule({
  name: 'web',
  // Only for /healthz's `mqtt` (connected or not), when the gateway reports over MQTT.
  needs: ['report'],
  // The whole config: the bundle carries it (redacted) and the page shows the gateway's name.
  slice: (c): Config => c,
  build: ({ config, deps, log, earlier, optional }) => {
    const { store, clock, scheduler, status, bus } = deps;
    const webLog = log('web');
    const auth = new AuthService({
      store,
      clock,
      log: webLog,
      scheduler,
      dataDir: config.data_dir,
      idleMs: config.http.session_idle_s * 1000,
      maxMs: config.http.session_max_s * 1000,
      showSetupCode: deps.showSetupCode,
    });
    const live = new LiveHub({
      bus,
      scheduler,
      log: webLog,
      snapshot: () => status.snapshot(),
      wallMs: () => clock.wallMs(),
    });
    const metrics = config.http.metrics
      ? new GatewayMetrics({ snapshot: () => status.snapshot() })
      : undefined;
    const report = optional('report');
    const server = buildServer({
      log: log('http'),
      dbOk: () => store.ping(),
      ...(report ? { mqttConnected: () => report.connected } : {}),
      metrics,
      onDiskFull: () => deps.diskGuard.noteFull(),
      publicRoutes: earlier.publicRoutes,
      fastPaths: earlier.fastPaths,
      technician: {
        auth,
        config,
        clock,
        log: webLog,
        scheduler,
        status,
        live,
        alerts: deps.alerts,
        logRing: deps.logRing,
        diagnostics: new ActionRegistry('diagnostic', deps.operations),
        actions: new ActionRegistry('action', deps.operations),
        technicianRoutes: earlier.technicianRoutes,
        bundleParts: earlier.bundleParts,
        staticDir: deps.staticDir ?? DEFAULT_STATIC_DIR,
      },
    });
    const http = new HttpService({ app: server, listen: config.http.listen, log: log('http') });
    return {
      provides: { server, http },
      services: [...(metrics ? [metrics] : []), auth, live, http],
    };
  },
});
