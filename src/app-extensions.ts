import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { CacheService } from './cache/cache-service.js';
import type { Config } from './config/schema.js';
import type { Clock } from './core/clock.js';
import type { Logger } from './core/logger.js';
import type { Scheduler } from './core/scheduler.js';
import type { DevicesService } from './devices/devices-service.js';
import { deviceTechRoutes } from './devices/tech-routes.js';
import { createProbe } from './probes/registry.js';
import { type CommandHooks, redactConfig } from './report/builtin-commands.js';
import { probeRunner } from './report/probe-command.js';
import type { ReportService } from './report/report-service.js';
import type { HistoryRepo } from './uplink/history-repo.js';
import { checkLadder } from './uplink/ladder-check.js';
import type { OutageRepo } from './uplink/outage-repo.js';
import { type UplinkRoutesOptions, uplinkRoutes } from './uplink/routes.js';
import type { ActionRegistry } from './web/action-registry.js';

/**
 * Where modules plug into the technician page: plugins mounted behind the session guard,
 * allow-listed diagnostics and actions, and parts of the diagnostic bundle.
 */
export interface WebExtensions {
  technicianRoutes: FastifyPluginAsync[];
  publicRoutes: FastifyPluginAsync[];
  diagnostics: ActionRegistry;
  actions: ActionRegistry;
  bundleParts: Record<string, () => unknown>;
}

export interface CrossModuleParts {
  config: Config;
  clock: Clock;
  log: Logger;
  scheduler: Scheduler;
  web: WebExtensions;
  devices: DevicesService;
  cache: CacheService;
  report: ReportService | undefined;
  uplink: UplinkRoutesOptions & { history: HistoryRepo; outages: OutageRepo };
}

const DAY_MS = 24 * 3600_000;

/**
 * The things that join modules for the people who operate the box: one allow-list of what a
 * technician (page) or the regency (MQTT `cmd/`) may run, and what the bundle carries. Every
 * entry runs only configured targets; no argument reaches a shell.
 */
export function registerCrossModule(p: CrossModuleParts): CommandHooks {
  const probeDeps = { clock: p.clock, log: p.log.child({ component: 'diagnostics' }) };
  const runProbe = probeRunner({ ...probeDeps, config: p.config, scheduler: p.scheduler, createProbe });
  const diagnose = () => checkLadder(p.config.uplink, probeDeps);
  const refreshCache = () => p.cache.refreshCache();

  p.web.technicianRoutes.push(async (app) => {
    await app.register(deviceTechRoutes, p.devices.techOptions);
    await app.register(uplinkRoutes, p.uplink);
  });

  p.web.diagnostics.register('ladder', {
    description: 'one round of every uplink probe, lowest layer first, with the failing layer',
    timeoutMs: 60_000,
    run: async ({ progress }) => {
      const report = await diagnose();
      for (const step of report.steps) progress({ ...step });
      return report;
    },
  });
  p.web.diagnostics.register('probe', {
    description: 'run one configured uplink probe (ping, DNS or HTTP) by its name',
    args: Type.Object(
      { probe: Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,31}$' }) },
      { additionalProperties: false },
    ),
    timeoutMs: 15_000,
    run: ({ args }) => runProbe(String(args.probe)),
  });

  p.web.actions.register('refresh-cache', {
    description: 'fetch every prefetch path of every upstream now',
    timeoutMs: 120_000,
    run: () => refreshCache(),
  });
  p.web.actions.register('wipe-cache', {
    description: 'delete every stored service-data body (queued writes are kept)',
    run: async () => p.cache.wipe(),
  });
  const report = p.report;
  if (report) {
    p.web.actions.register('flush-outbox', {
      description: 'send the regency backlog now, without pacing',
      run: async () => report.flushNow(),
    });
  }

  p.web.bundleParts.config = () => redactConfig(p.config);
  p.web.bundleParts.outages = () => p.uplink.outages.list(200);
  p.web.bundleParts.link_history_7d = () => p.uplink.history.series('minute', p.clock.wallMs() - 7 * DAY_MS);
  p.web.bundleParts.uptime_30d = () =>
    p.uplink.history.uptime(p.clock.wallMs() - 30 * DAY_MS, p.clock.wallMs());

  return { runProbe, diagnose, refreshCache };
}
