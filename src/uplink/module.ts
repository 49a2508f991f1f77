import { Type } from '@sinclair/typebox';
import { defineModule } from '../modules/contract.js';
import { type Operation, OperationError } from '../modules/operations.js';
import { createProbe } from '../probes/registry.js';
import { remoteCommand } from '../report/command-names.js';
import { probeRunner } from '../report/probe-command.js';
import { ChartRepo } from './chart-repo.js';
import { uplinkChartRoutes } from './chart-routes.js';
import type { UplinkConfig } from './config-schema.js';
import { HistoryRepo } from './history-repo.js';
import { InterfaceMonitor } from './interface-monitor.js';
import { checkLadder } from './ladder-check.js';
import { OUTAGES_RESTAMP, OutageRepo } from './outage-repo.js';
import { uplinkRoutes } from './routes.js';
import { ThroughputRepo } from './throughput-repo.js';
import { TrafficRepo } from './traffic-repo.js';
import { UplinkService } from './uplink-service.js';

declare module '../modules/contract.js' {
  interface ModuleProvides {
    uplink: UplinkService;
  }
}

const DAY_MS = 24 * 3600_000;

/**
 * The uplink ladder: probes → per-layer verdicts → the link verdict, outages and history; the
 * interface counters; the ladder and probe diagnostics (page) and `ping`/`diagnose` (MQTT).
 * Every diagnostic runs only configured probes: a caller never chooses a host, port or URL.
 */
export const uplinkModule = defineModule({
  name: 'uplink',
  slice: (c): UplinkConfig => c.uplink,
  build: ({ config, deps, log }) => {
    const { clock, scheduler, store } = deps;
    const db = () => store.db;
    const uplinkLog = log('uplink');
    const throughputs = new ThroughputRepo({ db });
    const iface = new InterfaceMonitor({
      config,
      clock,
      scheduler,
      store,
      writeTick: deps.writeTick,
      log: uplinkLog,
      traffic: new TrafficRepo({ db }),
      throughputs,
    });
    const history = new HistoryRepo({ db });
    const outages = new OutageRepo({ db, clock });
    const uplink = new UplinkService({ ...deps, config, log: uplinkLog, history, outages, iface });

    const probeDeps = { clock, log: log('diagnostics') };
    const runProbe = probeRunner({ ...probeDeps, config: { uplink: config }, scheduler, createProbe });
    const diagnose = () => checkLadder(config, probeDeps);
    const operations: Operation[] = [
      {
        name: 'ladder',
        page: 'diagnostic',
        description: 'one round of every uplink probe, lowest layer first, with the failing layer',
        timeoutMs: 60_000,
        run: async ({ progress }) => {
          const report = await diagnose();
          for (const step of report.steps) progress({ ...step });
          return report;
        },
      },
      {
        name: 'probe',
        page: 'diagnostic',
        description: 'run one configured uplink probe (ping, DNS or HTTP) by its name',
        args: Type.Object(
          { probe: Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,31}$' }) },
          { additionalProperties: false },
        ),
        timeoutMs: 15_000,
        run: ({ args }) => runProbe(String(args.probe)),
      },
      {
        name: remoteCommand('ping'),
        mqtt: true,
        description: 'run one configured uplink probe by its name (args.probe)',
        run: ({ args }) => {
          if (Object.keys(args).some((k) => k !== 'probe'))
            throw new OperationError('bad_args', 'ping takes only args.probe');
          const probe = args.probe;
          if (typeof probe !== 'string' || !/^[A-Za-z0-9_.-]{1,64}$/.test(probe))
            throw new OperationError('bad_args', 'args.probe must name a configured probe');
          if (!config.probes.some((p) => p.name === probe))
            throw new OperationError('bad_args', `no configured probe named ${probe}`);
          return runProbe(probe);
        },
      },
      {
        name: remoteCommand('diagnose'),
        mqtt: true,
        description: 'one round of every uplink probe, lowest layer first, with the failing layer',
        run: () => diagnose(),
      },
    ];

    return {
      provides: uplink,
      services: [iface, uplink],
      status: [uplink],
      technicianRoutes: [
        async (app) =>
          app.register(uplinkRoutes, {
            history,
            outages,
            link: () => uplink.live(),
            wallMs: () => clock.wallMs(),
          }),
        async (app) =>
          app.register(uplinkChartRoutes, {
            charts: new ChartRepo({ db }),
            throughputs,
            wallMs: () => clock.wallMs(),
          }),
      ],
      operations,
      bundleParts: {
        outages: () => outages.list(200),
        link_history_7d: () => history.series('minute', clock.wallMs() - 7 * DAY_MS),
        uptime_30d: () => history.uptime(clock.wallMs() - 30 * DAY_MS, clock.wallMs()),
      },
      restamp: [OUTAGES_RESTAMP],
    };
  },
});
