import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { CacheService } from './cache/cache-service.js';
import type { Config } from './config/schema.js';
import { Bus } from './core/bus.js';
import { type Clock, SystemClock } from './core/clock.js';
import { ClockSyncChecker } from './core/clock-sync.js';
import type { LogRing } from './core/log-ring.js';
import type { Logger } from './core/logger.js';
import { Scheduler } from './core/scheduler.js';
import { SdNotifier } from './core/sd-notify.js';
import { Lifecycle, type Service } from './core/service.js';
import { DevicesService } from './devices/devices-service.js';
import { deviceTechRoutes } from './devices/tech-routes.js';
import type { GatewayBus, GatewayEvents } from './events.js';
import { createProbe } from './probes/registry.js';
import { probeRunner } from './report/probe-command.js';
import { ReportService } from './report/report-service.js';
import { emptyStatus } from './status/defaults.js';
import { StatusHub } from './status/status-hub.js';
import { AlertsRepo } from './store/alerts-repo.js';
import { RunsRepo } from './store/runs-repo.js';
import { StateRepo } from './store/state-repo.js';
import { Store } from './store/store.js';
import { AlertSink } from './system/alert-sink.js';
import { ClockService } from './system/clock-service.js';
import { DiskGuard } from './system/disk-guard.js';
import { GatewayMetrics } from './system/metrics.js';
import { ALERTS_RESTAMP, Restamper, RUNS_RESTAMP } from './system/restamper.js';
import { RunService } from './system/run-service.js';
import { SystemService } from './system/system-service.js';
import { WritesRepo } from './system/writes-repo.js';
import { ActionRegistry } from './web/action-registry.js';
import { AuthService } from './web/auth/auth-service.js';
import { buildServer } from './web/build-server.js';
import { registerBuiltinDiagnostics } from './web/builtin-diagnostics.js';
import { HttpService } from './web/http-service.js';
import { LiveHub } from './web/live-hub.js';

export interface AppOptions {
  config: Config;
  log: Logger;
  version: string;
  clock?: Clock;
  env?: NodeJS.ProcessEnv;
  /** In-memory tail of the log for the page and the bundle (run.ts tees the logger into it). */
  logRing?: LogRing;
  /** The built page (default dist/web/static next to this file). */
  staticDir?: string;
}

/**
 * Where modules plug into the technician page. Fill these in buildApp before buildServer:
 * `technicianRoutes.push(plugin)` (mounted behind the session guard), `diagnostics.register()`
 * / `actions.register()` (allow-listed runs), `bundleParts.name = () => data`.
 */
export interface WebExtensions {
  technicianRoutes: FastifyPluginAsync[];
  publicRoutes: FastifyPluginAsync[];
  diagnostics: ActionRegistry;
  actions: ActionRegistry;
  bundleParts: Record<string, () => unknown>;
}

/** Everything shared between services, built once here and passed down (no singletons). */
export interface Deps {
  config: Config;
  log: Logger;
  clock: Clock;
  scheduler: Scheduler;
  store: Store;
  alerts: AlertsRepo;
  status: StatusHub;
  bus: GatewayBus;
  notifier: SdNotifier;
  /** Who may still write when the disk fills (low-value writes stop first). */
  diskGuard: DiskGuard;
  /** Alerts: recorded in the alerts table and emitted as `alert` on the bus. */
  alertSink: AlertSink;
  /** Tables whose wall stamps are repaired once the clock syncs: modules register theirs. */
  restamper: Restamper;
  runId: string;
  version: string;
  web: WebExtensions;
}

export interface App {
  deps: Deps;
  /** For the action/command layer: refreshCache() and wipe(). */
  cache: CacheService;
  report: ReportService | undefined;
  /** Devices module; the web module mounts `deviceTechRoutes` with `devices.techOptions`. */
  devices: DevicesService;
  http: HttpService;
  server: FastifyInstance;
  start(): Promise<void>;
  /** Stops in reverse order; returns the names of services that failed to stop. */
  stop(): Promise<string[]>;
}

/** The composition root: builds every service from config + deps, in start order. */
export function buildApp(options: AppOptions): App {
  const { config, log, version } = options;
  const checker = new ClockSyncChecker({ flagFile: config.system.timesync_flag });
  const clock = options.clock ?? new SystemClock(checker);
  const scheduler = new Scheduler({ clock, log: log.child({ component: 'scheduler' }) });
  const store = new Store({ dataDir: config.data_dir, log: log.child({ component: 'store' }), clock });
  const db = () => store.db;
  const runId = randomUUID();
  const status = new StatusHub(emptyStatus(config, version));
  const alerts = new AlertsRepo({ db, clock });
  const bus = new Bus<GatewayEvents>((event, err) => log.error({ err, event }, 'event listener failed'));
  const systemLog = log.child({ component: 'system' });
  const restamper = new Restamper({ db, clock });
  restamper.register(ALERTS_RESTAMP);
  restamper.register(RUNS_RESTAMP);
  const deps: Deps = {
    config,
    log,
    clock,
    scheduler,
    store,
    alerts,
    status,
    bus,
    notifier: new SdNotifier({ log: log.child({ component: 'systemd' }), env: options.env }),
    diskGuard: new DiskGuard({ floorBytes: config.system.disk_floor_mb * 1024 * 1024 }),
    alertSink: new AlertSink({ store, alerts, bus, log: systemLog }),
    restamper,
    runId,
    version,
    web: {
      technicianRoutes: [],
      publicRoutes: [],
      diagnostics: new ActionRegistry('diagnostic'),
      actions: new ActionRegistry('action'),
      bundleParts: {},
    },
  };

  const state = new StateRepo({ db });
  const clockService = new ClockService({
    checker,
    scheduler,
    clock,
    sink: deps.alertSink,
    restamper,
    state,
    log: log.child({ component: 'clock' }),
    config: config.system,
  });
  status.register(clockService);
  const system = new SystemService({
    config: config.system,
    dataDir: config.data_dir,
    clock,
    scheduler,
    store,
    state,
    writes: new WritesRepo({ db }),
    sink: deps.alertSink,
    guard: deps.diskGuard,
    log: systemLog,
  });
  status.register(system);
  const run = new RunService({
    ...deps,
    gateway: config.gateway,
    dataDir: config.data_dir,
    runs: new RunsRepo({ db, clock }),
    log: log.child({ component: 'run' }),
    env: options.env,
  });
  status.register({ section: 'gateway', live: () => run.gatewayStatus() });

  // Regency reporting (MQTT): only when an `mqtt` section is configured.
  const report = config.mqtt
    ? new ReportService({
        ...deps,
        mqtt: config.mqtt,
        log: log.child({ component: 'report' }),
        rootLog: log,
        // TODO(integration): lend `diagnose` (uplink ladder) and `refreshCache` (cache) once
        // those modules are merged; until then they answer error code 'not_available'.
        hooks: { runProbe: probeRunner({ ...deps, log: log.child({ component: 'report' }), createProbe }) },
      })
    : undefined;
  if (report) status.register(report);

  const devices = new DevicesService({ ...deps, createProbe });
  status.register(devices.statusSection);
  // Usage events enter the outbox inside the same durable commit that stores them (no window
  // in which a crash loses the regency's copy; a full disk refuses both with 507).
  if (report) report.takeUsageFrom(devices.ingest);
  deps.web.technicianRoutes.push(async (app) => {
    await app.register(deviceTechRoutes, devices.techOptions);
  });

  const webLog = log.child({ component: 'web' });
  const auth = new AuthService({
    store,
    clock,
    log: webLog,
    scheduler,
    dataDir: config.data_dir,
    idleMs: config.http.session_idle_s * 1000,
    maxMs: config.http.session_max_s * 1000,
  });
  const live = new LiveHub({
    bus: deps.bus,
    scheduler,
    log: webLog,
    snapshot: () => status.snapshot(),
    wallMs: () => clock.wallMs(),
  });
  registerBuiltinDiagnostics(deps.web.diagnostics, { store, clock, dataDir: config.data_dir });

  const cache = new CacheService({ ...deps, log: log.child({ component: 'cache' }) });
  status.register(cache);

  const metrics = config.http.metrics ? new GatewayMetrics({ snapshot: () => status.snapshot() }) : undefined;
  const server = buildServer({
    log: log.child({ component: 'http' }),
    dbOk: () => store.ping(),
    metrics,
    cache,
    onDiskFull: () => deps.diskGuard.noteFull(),
    devicePush: devices.pushOptions,
    publicRoutes: deps.web.publicRoutes,
    technician: {
      auth,
      config,
      clock,
      log: webLog,
      scheduler,
      status,
      live,
      alerts: deps.alerts,
      logRing: options.logRing,
      ...deps.web,
      staticDir: options.staticDir ?? fileURLToPath(new URL('./web/static/', import.meta.url)),
    },
  });
  const http = new HttpService({
    app: server,
    listen: config.http.listen,
    log: log.child({ component: 'http' }),
  });

  const services: Service[] = [
    { name: 'scheduler', start: () => undefined, stop: () => scheduler.stop() },
    store,
    clockService,
    system,
    run,
    ...(metrics ? [metrics] : []),
    ...(report ? [report] : []),
    devices,
    cache,
    auth,
    live,
    http,
  ];
  const lifecycle = new Lifecycle(services, { log: log.child({ component: 'lifecycle' }) });
  return {
    deps,
    report,
    devices,
    cache,
    http,
    server,
    start: () => lifecycle.start(),
    stop: () => lifecycle.stop(),
  };
}
