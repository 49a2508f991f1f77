import type { FastifyPluginAsync } from 'fastify';
import type { Config } from '../config/schema.js';
import type { Clock } from '../core/clock.js';
import type { ClockSyncChecker } from '../core/clock-sync.js';
import type { LogRing } from '../core/log-ring.js';
import type { Logger } from '../core/logger.js';
import type { Scheduler } from '../core/scheduler.js';
import type { SdNotifier } from '../core/sd-notify.js';
import type { Service } from '../core/service.js';
import type { GatewayBus } from '../events.js';
import type { StatusHub } from '../status/status-hub.js';
import type { StatusSection } from '../status/types.js';
import type { AlertsRepo } from '../store/alerts-repo.js';
import type { StateRepo } from '../store/state-repo.js';
import type { Store } from '../store/store.js';
import type { AlertSink } from '../system/alert-sink.js';
import type { DiskGuard } from '../system/disk-guard.js';
import type { Restamper, RestampTarget } from '../system/restamper.js';
import type { Operation, OperationRegistry } from './operations.js';

/**
 * What each module hands to the modules listed after it, by module name. Every module adds
 * its own entry next to its descriptor (TypeScript declaration merging):
 *
 *   declare module '../modules/contract.js' {
 *     interface ModuleProvides { devices: DevicesProvides }
 *   }
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled by declaration merging in each module
export interface ModuleProvides {}

/** Everything shared, built once by the composition root before any module (no singletons). */
export interface SharedDeps {
  log: Logger;
  clock: Clock;
  /** What the clock asks whether the wall clock is synced (the clock module checks it too). */
  checker: ClockSyncChecker;
  scheduler: Scheduler;
  store: Store;
  /** The `current_state` table where modules persist their status section. */
  state: StateRepo;
  alerts: AlertsRepo;
  /** Status parts are registered by the loop from each descriptor's `status`. */
  status: StatusHub;
  bus: GatewayBus;
  notifier: SdNotifier;
  /** Who may still write when the disk fills (low-value writes stop first). */
  diskGuard: DiskGuard;
  /** Alerts: recorded in the alerts table and emitted as `alert` on the bus. */
  alertSink: AlertSink;
  /** Tables whose wall stamps are repaired once the clock syncs (from each `restamp`). */
  restamper: Restamper;
  /** The one allow-list of page actions/diagnostics and MQTT commands (from each `operations`). */
  operations: OperationRegistry;
  runId: string;
  version: string;
  env?: NodeJS.ProcessEnv;
  /** In-memory tail of the log for the page and the bundle. */
  logRing?: LogRing;
  /** Where the built page lives. */
  staticDir?: string;
  /** Shows a new one-time setup code on the terminal (run.ts: only when stdout is a TTY). */
  showSetupCode?(code: string, file: string): void;
}

/** What the modules listed earlier contributed to the web: the web module mounts these. */
export interface WebContributions {
  publicRoutes: readonly FastifyPluginAsync[];
  technicianRoutes: readonly FastifyPluginAsync[];
  bundleParts: Readonly<Record<string, () => unknown>>;
}

export interface ModuleContext<S> {
  /** This module's slice of the config (what `slice()` returned). */
  config: S;
  deps: SharedDeps;
  /** A child logger per component: `log('cache')`. */
  log(component: string): Logger;
  /** What an earlier module provides; it must be in `needs` and listed before this module. */
  need<K extends keyof ModuleProvides>(name: K): ModuleProvides[K];
  /** Same, or undefined when that module is off in this build (no `mqtt` section → no report). */
  optional<K extends keyof ModuleProvides>(name: K): ModuleProvides[K] | undefined;
  /** Routes and bundle parts of the modules listed before this one. */
  earlier: WebContributions;
}

/** What a built module declares; the composition loop registers every part. */
export interface ModuleParts<P> {
  /** Handed to later modules through `need(name)`/`optional(name)` and exposed on the App. */
  provides: P;
  /** Started in this order after the services of earlier modules; stopped in reverse. */
  services?: Service[];
  /** Sections of the status object (CLI, GET /api/v1/status, MQTT health). */
  status?: StatusSection[];
  /** Unauthenticated HTTP plugins (own auth if any, e.g. kiosk bearer tokens). */
  publicRoutes?: FastifyPluginAsync[];
  /** Plugins mounted behind the technician session guard (CSRF, same-origin). */
  technicianRoutes?: FastifyPluginAsync[];
  /** Page actions/diagnostics and MQTT commands: one entry per name, see Operation. */
  operations?: Operation[];
  /** Named parts of the diagnostic bundle. No personal data. */
  bundleParts?: Record<string, () => unknown>;
  /** Tables whose wall stamps the clock module repairs once the clock syncs. */
  restamp?: RestampTarget[];
  /**
   * Re-reads this module's secret files now (SIGHUP, `systemctl reload`): rotated kiosk tokens
   * and upstream credentials apply without a restart. Returns what could not be read (file
   * paths or ids, never contents); an unreadable file keeps the module's last good value.
   */
  reload?(): string[];
}

/**
 * One capability of the gateway, described once: what a module file writes. `S` is its config
 * slice, `P` what it provides to later modules.
 */
export interface ModuleDescriptor<S, P> {
  readonly name: string;
  /** Modules whose `provides` this one uses; each must be listed before it. */
  readonly needs?: readonly (keyof ModuleProvides)[];
  /** The part of the config this module takes; undefined turns the module off in this build. */
  slice(config: Config): S | undefined;
  build(ctx: ModuleContext<S>): ModuleParts<P>;
}

/** A descriptor as the composition list holds it (its slice and provides types erased). */
export type GatewayModule = ModuleDescriptor<unknown, unknown>;

/**
 * Checks one descriptor's slice and build against each other, and erases their types so that
 * modules of different slices fit in one list. `app.ts` lists the modules; the loop
 * (compose.ts) builds each in list order and registers what its descriptor declares.
 */
export function defineModule<S, P>(d: ModuleDescriptor<S, P>): GatewayModule {
  return {
    name: d.name,
    needs: d.needs,
    slice: (config) => d.slice(config),
    build: (ctx) => d.build(ctx as ModuleContext<S>),
  };
}
