import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { CacheService } from './cache/cache-service.js';
import type { Config } from './config/schema.js';
import { Bus } from './core/bus.js';
import { type Clock, SystemClock } from './core/clock.js';
import { ClockSyncChecker } from './core/clock-sync.js';
import type { Logger } from './core/logger.js';
import { Scheduler } from './core/scheduler.js';
import { SdNotifier } from './core/sd-notify.js';
import { Lifecycle, type Service } from './core/service.js';
import { DevicesService } from './devices/devices-service.js';
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
import { buildServer } from './web/build-server.js';
import { HttpService } from './web/http-service.js';

export interface AppOptions {
  config: Config;
  log: Logger;
  version: string;
  clock?: Clock;
  env?: NodeJS.ProcessEnv;
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
