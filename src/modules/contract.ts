import type { FastifyPluginAsync } from 'fastify';
import type { Config } from '../config/schema.js';
import type { Clock } from '../core/clock.js';
import type { ClockSyncChecker } from '../core/clock-sync.js';
import type { LogRing } from '../core/log-ring.js';
import type { Logger } from '../core/logger.js';
import type { Scheduler } from '../core/scheduler.js';
import type { SdNotifier } from '../core/sd-notify.js';
import type { GatewayBus } from '../events.js';
import type { StatusHub } from '../status/status-hub.js';
import type { StatusSection } from '../status/types.js';
import type { AlertsRepo } from '../store/alerts-repo.js';
import type { SectionState } from '../store/live-snapshot.js';
import type { Store } from '../store/store.js';
import type { WriteTick } from '../store/write-tick.js';
import type { AlertSink } from '../system/alert-sink.js';
import type { DiskGuard } from '../system/disk-guard.js';
import type { Restamper, RestampTarget } from '../system/restamper.js';
import type { FastPath } from '../web/fast-path.js';
import {
  eraseModule,
  type FamilyContext,
  type FamilyDescriptor,
  type FamilyModule,
  type FamilyParts,
  type PartsRegistrar,
} from './family.js';
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
  /** The live snapshot (runtime directory) where modules keep their status section. */
  state: SectionState;
  /** The one periodic commit of derived data (every 5 minutes): periodic writers add themselves. */
  writeTick: WriteTick;
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
  fastPaths: readonly FastPath[];
  technicianRoutes: readonly FastifyPluginAsync[];
  bundleParts: Readonly<Record<string, () => unknown>>;
}

/** The parts only gateway modules declare; the gateway's registrar (below) takes each. */
export interface GatewayParts {
  /** Sections of the status object (CLI, GET /api/v1/status, MQTT health). */
  status: StatusSection[];
  /** Unauthenticated HTTP plugins (own auth if any, e.g. kiosk bearer tokens). */
  publicRoutes: FastifyPluginAsync[];
  /** Requests a module answers before fastify routes them (web/fast-path.ts): its hottest few. */
  fastPaths: FastPath[];
  /** Plugins mounted behind the technician session guard (CSRF, same-origin). */
  technicianRoutes: FastifyPluginAsync[];
  /** Page actions/diagnostics and MQTT commands: one entry per name, see Operation. */
  operations: Operation[];
  /** Named parts of the diagnostic bundle. No personal data. */
  bundleParts: Record<string, () => unknown>;
  /** Tables whose wall stamps the clock module repairs once the clock syncs. */
  restamp: RestampTarget[];
}

/** The gateway's module family: its config, deps, provides, parts and what web mounts. */
export interface GatewayFamily {
  config: Config;
  deps: SharedDeps;
  provides: ModuleProvides;
  parts: GatewayParts;
  earlier: WebContributions;
}

export type ModuleContext<S> = FamilyContext<GatewayFamily, S>;

/**
 * What a built gateway module declares; the composition loop registers every part. Its
 * `reload` re-reads the module's secret files (rotated kiosk tokens and upstream credentials
 * apply without a restart).
 */
export type ModuleParts<P> = FamilyParts<GatewayFamily, P>;

/**
 * One capability of the gateway, described once: what a module file writes. `S` is its config
 * slice, `P` what it provides to later modules.
 */
export type ModuleDescriptor<S, P> = FamilyDescriptor<GatewayFamily, S, P>;

/** A descriptor as the composition list holds it (its slice and provides types erased). */
export type GatewayModule = FamilyModule<GatewayFamily>;

/**
 * Checks one descriptor's slice and build against each other, and erases their types so that
 * modules of different slices fit in one list. `app.ts` lists the modules; the loop
 * (compose.ts) builds each in list order and registers what its descriptor declares.
 */
export function defineModule<S, P>(d: ModuleDescriptor<S, P>): GatewayModule {
  return eraseModule(d);
}

/**
 * Takes the gateway parts of each built module: status sections into the hub, operations into
 * the registry, restamp targets into the restamper, routes and bundle parts for the web
 * module. The registry is sealed once every module is built: nothing is added once the daemon
 * runs.
 */
export function gatewayRegistrar(deps: SharedDeps): PartsRegistrar<GatewayFamily> {
  const publicRoutes: FastifyPluginAsync[] = [];
  const fastPaths: FastPath[] = [];
  const technicianRoutes: FastifyPluginAsync[] = [];
  const bundleParts: Record<string, () => unknown> = {};
  return {
    add(module, parts) {
      for (const section of parts.status ?? []) deps.status.register(section);
      for (const op of parts.operations ?? []) deps.operations.register(op);
      for (const target of parts.restamp ?? []) deps.restamper.register(target);
      publicRoutes.push(...(parts.publicRoutes ?? []));
      fastPaths.push(...(parts.fastPaths ?? []));
      technicianRoutes.push(...(parts.technicianRoutes ?? []));
      for (const [name, get] of Object.entries(parts.bundleParts ?? {})) {
        if (name in bundleParts) throw new Error(`bundle part ${name} declared twice (${module})`);
        bundleParts[name] = get;
      }
    },
    mounts: (parts) =>
      [
        parts.publicRoutes,
        parts.fastPaths,
        parts.technicianRoutes,
        parts.bundleParts && Object.keys(parts.bundleParts),
      ].some((x) => x && x.length > 0),
    earlier: () => ({
      publicRoutes: [...publicRoutes],
      fastPaths: [...fastPaths],
      technicianRoutes: [...technicianRoutes],
      bundleParts: { ...bundleParts },
    }),
    done: () => deps.operations.seal(),
  };
}
