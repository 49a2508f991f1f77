import type { FastifyPluginAsync } from 'fastify';
import type { Config } from '../config/schema.js';
import type { Clock } from '../core/clock.js';
import type { LogRing } from '../core/log-ring.js';
import type { Logger } from '../core/logger.js';
import type { Scheduler } from '../core/scheduler.js';
import type { StatusObject } from '../status/types.js';
import type { AlertsRepo } from '../store/alerts-repo.js';
import type { ActionRegistry } from './action-registry.js';
import type { AuthService } from './auth/auth-service.js';
import type { LiveHub } from './live-hub.js';

/** What the technician page's API needs; the web module builds it. */
export interface TechnicianDeps {
  auth: AuthService;
  config: Config;
  clock: Clock;
  log: Logger;
  scheduler: Scheduler;
  status: { snapshot(): StatusObject };
  live: LiveHub;
  alerts: AlertsRepo;
  logRing?: LogRing;
  /** The page's views of the one operation registry. */
  diagnostics: ActionRegistry;
  actions: ActionRegistry;
  /**
   * Other modules' technician route plugins (uplink history/outages, devices, usage...). They
   * are registered inside the guarded context: every route gets the session check, and CSRF +
   * same-origin on state changes, without doing anything itself.
   */
  technicianRoutes: readonly FastifyPluginAsync[];
  /** Extra parts of the diagnostic bundle (e.g. outages, probe history), by name. No personal data. */
  bundleParts: Readonly<Record<string, () => unknown>>;
  /** Where the built page lives (dist/web/static); absent → a plain "not built" page. */
  staticDir?: string;
}
