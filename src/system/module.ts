import type { Config } from '../config/schema.js';
import { defineModule } from '../modules/contract.js';
import { RunsRepo } from '../store/runs-repo.js';
import { StateRepo } from '../store/state-repo.js';
import { systemChartRoutes } from './chart-routes.js';
import { ClockService } from './clock-service.js';
import { HealthHourRepo } from './health-hours.js';
import { ALERTS_RESTAMP, RUNS_RESTAMP } from './restamper.js';
import { RunService } from './run-service.js';
import { selfCheck } from './self-check.js';
import { SystemService } from './system-service.js';
import { WritesRepo } from './writes-repo.js';

export interface SystemSlice {
  system: Config['system'];
  gateway: Config['gateway'];
  dataDir: string;
}

/** The box itself: the clock (sync, jumps, restamping), health and disk, the daemon's run. */
export const systemModule = defineModule({
  name: 'system',
  slice: (c): SystemSlice => ({ system: c.system, gateway: c.gateway, dataDir: c.data_dir }),
  build: ({ config, deps, log }) => {
    const { clock, scheduler, store, state } = deps;
    const db = () => store.db;
    const clockService = new ClockService({
      checker: deps.checker,
      scheduler,
      clock,
      sink: deps.alertSink,
      restamper: deps.restamper,
      // A clock jump is rare and still worth knowing after a reboot: kept in the database.
      state: new StateRepo({ db }),
      log: log('clock'),
      config: config.system,
    });
    const writes = new WritesRepo({ db });
    const healthHours = new HealthHourRepo({ db });
    const system = new SystemService({
      config: config.system,
      dataDir: config.dataDir,
      clock,
      scheduler,
      store,
      state,
      writeTick: deps.writeTick,
      writes,
      healthHours,
      sink: deps.alertSink,
      guard: deps.diskGuard,
      log: log('system'),
    });
    const run = new RunService({
      ...deps,
      gateway: config.gateway,
      dataDir: config.dataDir,
      runs: new RunsRepo({ db, clock }),
      log: log('run'),
    });
    return {
      provides: undefined,
      services: [clockService, system, run],
      status: [clockService, system, { section: 'gateway', live: () => run.gatewayStatus() }],
      technicianRoutes: [
        async (app) =>
          app.register(systemChartRoutes, {
            hours: healthHours,
            running: () => system.runningHour(),
            writes,
            writesToday: () => system.live(),
            wallMs: () => clock.wallMs(),
          }),
      ],
      operations: [selfCheck({ store, clock, dataDir: config.dataDir })],
      restamp: [ALERTS_RESTAMP, RUNS_RESTAMP],
    };
  },
});
