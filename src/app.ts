import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { CacheService } from './cache/cache-service.js';
import { cacheModule } from './cache/module.js';
import { runDirOf } from './config/base-schema.js';
import type { Config } from './config/schema.js';
import { Bus } from './core/bus.js';
import { type Clock, SystemClock } from './core/clock.js';
import { ClockSyncChecker } from './core/clock-sync.js';
import type { LogRing } from './core/log-ring.js';
import type { Logger } from './core/logger.js';
import { Scheduler } from './core/scheduler.js';
import { SdNotifier } from './core/sd-notify.js';
import { Lifecycle, type Service } from './core/service.js';
import type { DevicesService } from './devices/devices-service.js';
import { devicesModule } from './devices/module.js';
import type { GatewayEvents } from './events.js';
import { composeModules } from './modules/compose.js';
import {
  type GatewayModule,
  gatewayRegistrar,
  type ModuleProvides,
  type SharedDeps,
} from './modules/contract.js';
import { OperationRegistry } from './modules/operations.js';
import { reportModule } from './report/module.js';
import type { ReportService } from './report/report-service.js';
import { emptyStatus } from './status/defaults.js';
import { StatusHub } from './status/status-hub.js';
import { AlertsRepo } from './store/alerts-repo.js';
import { LiveSnapshot } from './store/live-snapshot.js';
import { StateRepo } from './store/state-repo.js';
import { Store } from './store/store.js';
import { WriteTick } from './store/write-tick.js';
import { AlertSink } from './system/alert-sink.js';
import { DiskGuard } from './system/disk-guard.js';
import { systemModule } from './system/module.js';
import { Restamper } from './system/restamper.js';
import { uplinkModule } from './uplink/module.js';
import type { UplinkService } from './uplink/uplink-service.js';
import type { HttpService } from './web/http-service.js';
import { webModule } from './web/module.js';

/**
 * The gateway's capabilities, in build and start order (stopped in reverse). Report comes
 * before the producers so what they emit at start reaches the outbox; web comes last because
 * it mounts the routes the others declare. A new capability is one descriptor added here.
 */
export const GATEWAY_MODULES: readonly GatewayModule[] = [
  systemModule,
  reportModule,
  uplinkModule,
  devicesModule,
  cacheModule,
  webModule,
];

/** The list with extra modules placed just before web (so their routes are mounted). */
export function modulesWith(extra: readonly GatewayModule[]): GatewayModule[] {
  const web = GATEWAY_MODULES.indexOf(webModule);
  return [...GATEWAY_MODULES.slice(0, web), ...extra, ...GATEWAY_MODULES.slice(web)];
}

export interface AppOptions {
  config: Config;
  log: Logger;
  version: string;
  clock?: Clock;
  env?: NodeJS.ProcessEnv;
  /** In-memory tail of the log for the page and the bundle (run.ts tees the logger into it). */
  logRing?: LogRing;
  /** The built page (default dist/web/static). */
  staticDir?: string;
  /** Shows a new one-time setup code on the terminal (never in the log); see AuthOptions. */
  showSetupCode?(code: string, file: string): void;
  /** Default GATEWAY_MODULES (tests add theirs with modulesWith). */
  modules?: readonly GatewayModule[];
}

/** The shared deps, and the config they were built from (for tests and the CLI). */
export type Deps = SharedDeps & { config: Config };

export interface App {
  deps: Deps;
  uplink: UplinkService;
  devices: DevicesService;
  /** Absent when the config has no `mqtt` section. */
  report: ReportService | undefined;
  cache: CacheService;
  http: HttpService;
  server: FastifyInstance;
  /** What each module provides, by name (for modules added in tests). */
  provided: ReadonlyMap<string, unknown>;
  start(): Promise<void>;
  /** Stops in reverse order; returns the names of services that failed to stop. */
  stop(): Promise<string[]>;
  /**
   * SIGHUP: every module re-reads its secret files now. Returns what could not be read, per
   * module (paths or ids only); a module whose reload throws is reported, the others still run.
   */
  reload(): Array<{ module: string; problems: string[] }>;
}

/** Everything shared between modules, built once here and passed down (no singletons). */
function buildDeps(options: AppOptions): Deps {
  const { config, log, version } = options;
  const checker = new ClockSyncChecker({ flagFile: config.system.timesync_flag });
  const clock = options.clock ?? new SystemClock(checker);
  const store = new Store({ dataDir: config.data_dir, log: log.child({ component: 'store' }), clock });
  const db = () => store.db;
  const alerts = new AlertsRepo({ db, clock });
  const bus = new Bus<GatewayEvents>((event, err) => log.error({ err, event }, 'event listener failed'));
  const scheduler = new Scheduler({ clock, log: log.child({ component: 'scheduler' }) });
  return {
    config,
    log,
    clock,
    checker,
    scheduler,
    writeTick: new WriteTick({ store, scheduler, log: log.child({ component: 'store' }) }),
    store,
    state: new LiveSnapshot({
      dir: runDirOf(config),
      log: log.child({ component: 'status' }),
      fallback: new StateRepo({ db }),
    }),
    alerts,
    status: new StatusHub(emptyStatus(config, version)),
    bus,
    notifier: new SdNotifier({ log: log.child({ component: 'systemd' }), env: options.env }),
    diskGuard: new DiskGuard({ floorBytes: config.system.disk_floor_mb * 1024 * 1024 }),
    alertSink: new AlertSink({ store, alerts, bus, log: log.child({ component: 'system' }) }),
    restamper: new Restamper({ db, clock }),
    operations: new OperationRegistry(),
    runId: randomUUID(),
    version,
    env: options.env,
    logRing: options.logRing,
    staticDir: options.staticDir,
    showSetupCode: options.showSetupCode,
  };
}

/** The composition root: shared deps, then the modules in list order, then one lifecycle. */
export function buildApp(options: AppOptions): App {
  const deps = buildDeps(options);
  const { services, provided, reloaders } = composeModules(
    options.modules ?? GATEWAY_MODULES,
    options.config,
    deps,
    gatewayRegistrar(deps),
  );
  const core: Service[] = [
    { name: 'scheduler', start: () => undefined, stop: () => deps.scheduler.stop() },
    deps.store,
    deps.writeTick,
  ];
  const lifecycle = new Lifecycle([...core, ...services], {
    log: deps.log.child({ component: 'lifecycle' }),
  });
  const get = <K extends keyof ModuleProvides>(name: K): ModuleProvides[K] => {
    if (!provided.has(name)) throw new Error(`module ${name} is not in this build`);
    return provided.get(name) as ModuleProvides[K];
  };
  const web = get('web');
  return {
    deps,
    uplink: get('uplink'),
    devices: get('devices').service,
    report: provided.get('report') as ReportService | undefined,
    cache: get('cache'),
    http: web.http,
    server: web.server,
    provided,
    start: () => lifecycle.start(),
    stop: () => lifecycle.stop(),
    reload: () => reloadAll(reloaders, deps.log),
  };
}

function reloadAll(
  reloaders: ReadonlyArray<{ module: string; reload: () => string[] }>,
  log: Logger,
): Array<{ module: string; problems: string[] }> {
  return reloaders.map(({ module, reload }) => {
    let problems: string[];
    try {
      problems = reload();
    } catch (err) {
      log.error({ err, module }, 'reload failed');
      problems = ['reload failed'];
    }
    return { module, problems };
  });
}
