import type { FastifyPluginAsync } from 'fastify';
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import type { Scheduler } from '../../core/scheduler.js';
import {
  eraseModule,
  type FamilyContext,
  type FamilyDescriptor,
  type FamilyModule,
  type PartsRegistrar,
} from '../../modules/family.js';
import type { CollectorDeps } from '../collector.js';
import type { RegencyConfig } from '../config-schema.js';
import type { MonotonicSilence } from '../fleet.js';
import type { OpenedDb } from '../store/open-db.js';
import type { ReadRepo } from '../store/read-repo.js';
import type { VillageRegistry } from '../villages.js';

/**
 * What each regency module hands to the modules listed after it, by module name; each module
 * file adds its entry (declaration merging), as gateway modules do on `ModuleProvides`:
 *
 *   declare module './contract.js' {
 *     interface RegencyProvides { commands: CommandsProvides }
 *   }
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled by declaration merging in each module
export interface RegencyProvides {}

/**
 * Everything the regency's modules share, built once by regency-app.ts after the store is
 * open (no singletons).
 */
export interface RegencyDeps {
  log: Logger;
  clock: Clock;
  /** All of the regency's timers (stopped last, with the db watch). */
  scheduler: Scheduler;
  /** The open store (migrated): `db`, its dialect and where it is. */
  store: OpenedDb;
  /** Fleet and totals as the page, the metrics and the alerts read them. */
  read: ReadRepo;
  /** The villages file (or the bundled Banyuwangi list). */
  registry: VillageRegistry;
  /** Who has been silent for how long, on the monotonic clock (fed by the collector). */
  silence: MonotonicSilence;
  /** Villages revoked when the regency starts (the collector quarantines their messages). */
  revoked: ReadonlySet<string>;
  /** Shows the one-time setup code to a person at a terminal (never in the JSON log). */
  showSetupCode?(code: string, file: string): void;
  /** Where the built fleet page is (tests); default dist/regency/static. */
  staticDir?: string;
  /** Tests only: the collector loses these messages before commit (see CollectorDeps). */
  dropBeforeCommit?: CollectorDeps['dropBeforeCommit'];
}

/** The parts only regency modules declare: routes, which the web module mounts. */
export interface RegencyParts {
  /** Unauthenticated plugins with their own auth (the bundle route's one-time codes). */
  publicRoutes: FastifyPluginAsync[];
  /** The fleet page's API: plugins behind the account guard (session; CSRF + same-origin). */
  accountRoutes: FastifyPluginAsync[];
}

/** What the regency's web module mounts: the routes of the modules listed before it. */
export interface RegencyRoutes {
  publicRoutes: readonly FastifyPluginAsync[];
  accountRoutes: readonly FastifyPluginAsync[];
}

export interface RegencyFamily {
  config: RegencyConfig;
  deps: RegencyDeps;
  provides: RegencyProvides;
  parts: RegencyParts;
  earlier: RegencyRoutes;
}

export type RegencyContext<S> = FamilyContext<RegencyFamily, S>;
export type RegencyModule = FamilyModule<RegencyFamily>;

/** One capability of the regency, described once (`S` its config slice, `P` what it provides). */
export function defineRegencyModule<S, P>(d: FamilyDescriptor<RegencyFamily, S, P>): RegencyModule {
  return eraseModule(d);
}

/** Collects the modules' routes for the web module, in list order. */
export function regencyRegistrar(): PartsRegistrar<RegencyFamily> {
  const publicRoutes: FastifyPluginAsync[] = [];
  const accountRoutes: FastifyPluginAsync[] = [];
  return {
    add(_module, parts) {
      publicRoutes.push(...(parts.publicRoutes ?? []));
      accountRoutes.push(...(parts.accountRoutes ?? []));
    },
    mounts: (parts) => (parts.publicRoutes?.length ?? 0) + (parts.accountRoutes?.length ?? 0) > 0,
    earlier: () => ({ publicRoutes: [...publicRoutes], accountRoutes: [...accountRoutes] }),
    done: () => undefined,
  };
}
