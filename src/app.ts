import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { registerCrossModule, type WebExtensions } from './app-extensions.js';
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
import { CHANGES_RESTAMP } from './devices/changes-repo.js';
import { DevicesService } from './devices/devices-service.js';
import { USAGE_RESTAMP } from './devices/usage-repo.js';
import type { GatewayBus, GatewayEvents } from './events.js';
import { createProbe } from './probes/registry.js';
import type { CommandHooks } from './report/builtin-commands.js';
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
import { HistoryRepo } from './uplink/history-repo.js';
import { InterfaceMonitor } from './uplink/interface-monitor.js';
import { OUTAGES_RESTAMP, OutageRepo } from './uplink/outage-repo.js';
import { TrafficRepo } from './uplink/traffic-repo.js';
import { UplinkService } from './uplink/uplink-service.js';
import { ActionRegistry } from './web/action-registry.js';
import { AuthService } from './web/auth/auth-service.js';
import { buildServer } from './web/build-server.js';
import { registerBuiltinDiagnostics } from './web/builtin-diagnostics.js';
import { HttpService } from './web/http-service.js';
import { LiveHub } from './web/live-hub.js';

export type { WebExtensions } from './app-extensions.js';

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
  uplink: UplinkService;
  devices: DevicesService;
  /** Absent when the config has no `mqtt` section. */
  report: ReportService | undefined;
  cache: CacheService;
  http: HttpService;
  server: FastifyInstance;
  start(): Promise<void>;
  /** Stops in reverse order; returns the names of services that failed to stop. */
  stop(): Promise<string[]>;
}

function buildDeps(options: AppOptions): Deps & { checker: ClockSyncChecker } {
  const { config, log, version } = options;
  const checker = new ClockSyncChecker({ flagFile: config.system.timesync_flag });
  const clock = options.clock ?? new SystemClock(checker);
  const store = new Store({ dataDir: config.data_dir, log: log.child({ component: 'store' }), clock });
  const db = () => store.db;
  const alerts = new AlertsRepo({ db, clock });
  const bus = new Bus<GatewayEvents>((event, err) => log.error({ err, event }, 'event listener failed'));
  const restamper = new Restamper({ db, clock });
  for (const target of [ALERTS_RESTAMP, RUNS_RESTAMP, USAGE_RESTAMP, CHANGES_RESTAMP, OUTAGES_RESTAMP]) {
    restamper.register(target);
  }
  return {
    checker,
    config,
    log,
    clock,
    scheduler: new Scheduler({ clock, log: log.child({ component: 'scheduler' }) }),
    store,
    alerts,
    status: new StatusHub(emptyStatus(config, version)),
    bus,
    notifier: new SdNotifier({ log: log.child({ component: 'systemd' }), env: options.env }),
    diskGuard: new DiskGuard({ floorBytes: config.system.disk_floor_mb * 1024 * 1024 }),
    alertSink: new AlertSink({ store, alerts, bus, log: log.child({ component: 'system' }) }),
    restamper,
    runId: randomUUID(),
    version,
    web: {
      technicianRoutes: [],
      publicRoutes: [],
      diagnostics: new ActionRegistry('diagnostic'),
      actions: new ActionRegistry('action'),
      bundleParts: {},
    },
  };
}

/** The composition root: builds every service from config + deps, in start order. */
export function buildApp(options: AppOptions): App {
  const { checker, ...deps } = buildDeps(options);
  const { config, log, clock, scheduler, store, status, bus } = deps;
  const db = () => store.db;
  const state = new StateRepo({ db });
  const child = (component: string) => log.child({ component });

  const clockService = new ClockService({
    checker,
    scheduler,
    clock,
    sink: deps.alertSink,
    restamper: deps.restamper,
    state,
    log: child('clock'),
    config: config.system,
  });
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
    log: child('system'),
  });
  const run = new RunService({
    ...deps,
    gateway: config.gateway,
    dataDir: config.data_dir,
    runs: new RunsRepo({ db, clock }),
    log: child('run'),
    env: options.env,
  });

  const uplinkLog = child('uplink');
  const iface = new InterfaceMonitor({
    config: config.uplink,
    clock,
    scheduler,
    store,
    log: uplinkLog,
    traffic: new TrafficRepo({ db }),
  });
  const history = new HistoryRepo({ db });
  const outages = new OutageRepo({ db, clock });
  const uplink = new UplinkService({
    ...deps,
    config: config.uplink,
    log: uplinkLog,
    state,
    history,
    outages,
    iface,
  });

  // Regency reporting (MQTT), only with an `mqtt` section. Its command hooks are lent below,
  // once the modules they call exist.
  const hooks: CommandHooks = {};
  const report = config.mqtt
    ? new ReportService({ ...deps, mqtt: config.mqtt, log: child('report'), rootLog: log, hooks })
    : undefined;

  const devices = new DevicesService({ ...deps, createProbe });
  // Usage events enter the outbox inside the same durable commit that stores them: no window
  // in which a crash loses the regency's copy, and a full disk refuses both with 507.
  report?.takeUsageFrom(devices.ingest);
  const cache = new CacheService({ ...deps, auth: devices.auth, log: child('cache') });

  const webLog = child('web');
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
    bus,
    scheduler,
    log: webLog,
    snapshot: () => status.snapshot(),
    wallMs: () => clock.wallMs(),
  });
  registerBuiltinDiagnostics(deps.web.diagnostics, { store, clock, dataDir: config.data_dir });
  Object.assign(
    hooks,
    registerCrossModule({
      ...deps,
      devices,
      cache,
      report,
      uplink: { history, outages, link: () => uplink.live(), wallMs: () => clock.wallMs() },
    }),
  );

  status.register(clockService);
  status.register(system);
  status.register({ section: 'gateway', live: () => run.gatewayStatus() });
  status.register(uplink);
  status.register(devices.statusSection);
  if (report) status.register(report);
  status.register(cache);

  const metrics = config.http.metrics ? new GatewayMetrics({ snapshot: () => status.snapshot() }) : undefined;
  const server = buildServer({
    log: child('http'),
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
  const http = new HttpService({ app: server, listen: config.http.listen, log: child('http') });

  const services: Service[] = [
    { name: 'scheduler', start: () => undefined, stop: () => scheduler.stop() },
    store,
    clockService,
    system,
    run,
    // Report listens before the producers start: what they emit at start (an outage left open
    // by a power cut) reaches the outbox.
    ...(report ? [report] : []),
    iface,
    uplink,
    devices,
    cache,
    ...(metrics ? [metrics] : []),
    auth,
    live,
    http,
  ];
  const lifecycle = new Lifecycle(services, { log: child('lifecycle') });
  return {
    deps,
    uplink,
    devices,
    report,
    cache,
    http,
    server,
    start: () => lifecycle.start(),
    stop: () => lifecycle.stop(),
  };
}
