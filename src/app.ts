import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Config } from './config/schema.js';
import { Bus } from './core/bus.js';
import { type Clock, SystemClock } from './core/clock.js';
import { ClockSyncChecker } from './core/clock-sync.js';
import type { Logger } from './core/logger.js';
import { Scheduler } from './core/scheduler.js';
import { SdNotifier } from './core/sd-notify.js';
import { Lifecycle, type Service } from './core/service.js';
import type { GatewayBus, GatewayEvents } from './events.js';
import { emptyStatus } from './status/defaults.js';
import { StatusHub } from './status/status-hub.js';
import { AlertsRepo } from './store/alerts-repo.js';
import { RunsRepo } from './store/runs-repo.js';
import { StateRepo } from './store/state-repo.js';
import { Store } from './store/store.js';
import { ClockService } from './system/clock-service.js';
import { RunService } from './system/run-service.js';
import { HistoryRepo } from './uplink/history-repo.js';
import { InterfaceMonitor } from './uplink/interface-monitor.js';
import { OutageRepo } from './uplink/outage-repo.js';
import type { UplinkRoutesOptions } from './uplink/routes.js';
import { TrafficRepo } from './uplink/traffic-repo.js';
import { UplinkService } from './uplink/uplink-service.js';
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
  runId: string;
  version: string;
}

export interface App {
  deps: Deps;
  /** For the web module: mount `uplinkRoutes` with these options behind the technician guard. */
  uplinkRoutes: UplinkRoutesOptions;
  http: HttpService;
  server: FastifyInstance;
  start(): Promise<void>;
  /** Stops in reverse order; returns the names of services that failed to stop. */
  stop(): Promise<string[]>;
}

/** The composition root: builds every service from config + deps, in start order. */
export function buildApp(options: AppOptions): App {
  const { config, log, version } = options;
  const checker = new ClockSyncChecker();
  const clock = options.clock ?? new SystemClock(checker);
  const scheduler = new Scheduler({ clock, log: log.child({ component: 'scheduler' }) });
  const store = new Store({ dataDir: config.data_dir, log: log.child({ component: 'store' }), clock });
  const db = () => store.db;
  const runId = randomUUID();
  const status = new StatusHub(emptyStatus(config, version));
  const deps: Deps = {
    config,
    log,
    clock,
    scheduler,
    store,
    alerts: new AlertsRepo({ db, clock }),
    status,
    bus: new Bus<GatewayEvents>((event, err) => log.error({ err, event }, 'event listener failed')),
    notifier: new SdNotifier({ log: log.child({ component: 'systemd' }), env: options.env }),
    runId,
    version,
  };

  const clockService = new ClockService({ checker, scheduler });
  status.register(clockService);
  const run = new RunService({
    ...deps,
    gateway: config.gateway,
    dataDir: config.data_dir,
    runs: new RunsRepo({ db, clock }),
    log: log.child({ component: 'run' }),
    env: options.env,
  });
  status.register({ section: 'gateway', live: () => run.gatewayStatus() });

  const uplinkLog = log.child({ component: 'uplink' });
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
    config: config.uplink,
    clock,
    scheduler,
    store,
    bus: deps.bus,
    log: uplinkLog,
    state: new StateRepo({ db }),
    history,
    outages,
    iface,
  });
  const uplinkRoutesOptions: UplinkRoutesOptions = {
    history,
    outages,
    link: () => uplink.live(),
    wallMs: () => clock.wallMs(),
  };
  status.register(uplink);

  const server = buildServer({ log: log.child({ component: 'http' }), dbOk: () => store.ping() });
  const http = new HttpService({
    app: server,
    listen: config.http.listen,
    log: log.child({ component: 'http' }),
  });

  const services: Service[] = [
    { name: 'scheduler', start: () => undefined, stop: () => scheduler.stop() },
    store,
    clockService,
    run,
    iface,
    uplink,
    http,
  ];
  const lifecycle = new Lifecycle(services, { log: log.child({ component: 'lifecycle' }) });
  return {
    deps,
    uplinkRoutes: uplinkRoutesOptions,
    http,
    server,
    start: () => lifecycle.start(),
    stop: () => lifecycle.stop(),
  };
}
