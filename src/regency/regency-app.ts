import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import { Scheduler } from '../core/scheduler.js';
import { Lifecycle } from '../core/service.js';
import { composeModules } from '../modules/compose.js';
import type { HttpService } from '../web/http-service.js';
import type { Collector, CollectorDeps } from './collector.js';
import type { RegencyConfig } from './config-schema.js';
import { MonotonicSilence } from './fleet.js';
import { accountsModule } from './modules/accounts.js';
import { alertListModule, alertsModule } from './modules/alerts.js';
import { collectorModule } from './modules/collector.js';
import { commandsModule } from './modules/commands.js';
import {
  type RegencyDeps,
  type RegencyModule,
  type RegencyProvides,
  regencyRegistrar,
} from './modules/contract.js';
import { fleetModule } from './modules/fleet.js';
import { incidentsModule } from './modules/incidents.js';
import { metricsModule } from './modules/metrics.js';
import { partitionsModule } from './modules/partitions.js';
import { provisionModule } from './modules/provision.js';
import { repairModule } from './modules/repair.js';
import { reportsModule } from './modules/reports.js';
import { retentionModule } from './modules/retention.js';
import { rotationModule } from './modules/rotation.js';
import { rotationGraceModule } from './modules/rotation-grace.js';
import { storeModule } from './modules/store.js';
import { webModule } from './modules/web.js';
import { CredentialsRepo } from './provision/credentials-repo.js';
import { type OpenedDb, openRegencyDb } from './store/open-db.js';
import { ReadRepo } from './store/read-repo.js';
import { VillageRegistry } from './villages.js';

/**
 * The regency's capabilities, in build and start order (stopped in reverse). The store's
 * watch comes first (its stop stops the scheduler last), then the month partitions of the
 * messages (PostgreSQL: made before anything is written); the modules with routes come before
 * web, which mounts them; the collector starts once HTTP listens, and gap repair, alerts, the
 * rotation grace sweep and retention after it. A new capability is one file in modules/ and
 * one line here.
 */
export const REGENCY_MODULES: readonly RegencyModule[] = [
  storeModule,
  partitionsModule,
  accountsModule,
  metricsModule,
  fleetModule,
  reportsModule,
  incidentsModule,
  alertListModule,
  commandsModule,
  provisionModule,
  webModule,
  rotationModule,
  collectorModule,
  repairModule,
  alertsModule,
  rotationGraceModule,
  retentionModule,
];

export interface RegencyAppDeps {
  config: RegencyConfig;
  log: Logger;
  clock: Clock;
  /** Shows the one-time setup code to a person at a terminal (never in the JSON log). */
  showSetupCode?(code: string, file: string): void;
  /** Where the built fleet page is (tests); default dist/regency/static. */
  staticDir?: string;
  /** Tests only: the collector loses these messages before commit (see CollectorDeps). */
  dropBeforeCommit?: CollectorDeps['dropBeforeCommit'];
  /** Default REGENCY_MODULES. */
  modules?: readonly RegencyModule[];
}

/**
 * The regency's composition root: opens the store (migrated), reads what the modules need
 * from it at start (the villages heard before, the revoked ones), builds the shared deps, then
 * the modules in list order and one lifecycle: each start in order, stopped in reverse, each
 * step time-boxed (core/service Lifecycle).
 */
export class RegencyApp {
  readonly deps: RegencyAppDeps;
  readonly registry: VillageRegistry;
  private readonly scheduler: Scheduler;
  private readonly silence: MonotonicSilence;
  private opened: OpenedDb | undefined;
  private lifecycle: Lifecycle | undefined;
  /** What each module provides, by name (after start). */
  provided: ReadonlyMap<string, unknown> = new Map();
  http: HttpService | undefined;
  collector: Collector | undefined;

  constructor(deps: RegencyAppDeps) {
    this.deps = deps;
    this.registry = VillageRegistry.load(deps.config.regency.villages_file);
    this.scheduler = new Scheduler({ clock: deps.clock, log: deps.log.child({ component: 'scheduler' }) });
    this.silence = new MonotonicSilence({ clock: deps.clock, silentAfterS: deps.config.silent_after_s });
  }

  get where(): string {
    return this.opened?.where ?? '';
  }

  async start(): Promise<void> {
    const { config, log } = this.deps;
    const opened = await openRegencyDb(config, log.child({ component: 'store' }));
    this.opened = opened;
    const read = new ReadRepo({ db: opened.db });
    this.silence.begin(await read.villages());
    const deps: RegencyDeps = {
      log,
      clock: this.deps.clock,
      scheduler: this.scheduler,
      store: opened,
      read,
      registry: this.registry,
      silence: this.silence,
      revoked: await new CredentialsRepo({ db: opened.db }).revokedCodes(),
      ...(this.deps.showSetupCode ? { showSetupCode: this.deps.showSetupCode } : {}),
      ...(this.deps.staticDir ? { staticDir: this.deps.staticDir } : {}),
      ...(this.deps.dropBeforeCommit ? { dropBeforeCommit: this.deps.dropBeforeCommit } : {}),
    };
    const { services, provided } = composeModules(
      this.deps.modules ?? REGENCY_MODULES,
      config,
      deps,
      regencyRegistrar(),
    );
    this.provided = provided;
    this.http = (provided.get('web') as RegencyProvides['web'] | undefined)?.http;
    this.collector = provided.get('collector') as RegencyProvides['collector'] | undefined;
    this.lifecycle = new Lifecycle(services, { log });
    await this.lifecycle.start();
    log.info({ store: opened.where, villages: this.registry.size }, 'regency collector started');
  }

  async stop(): Promise<string[]> {
    const failed = (await this.lifecycle?.stop()) ?? [];
    await this.opened?.db.destroy().catch((err) => {
      this.deps.log.warn({ err }, 'store close failed');
      failed.push('store');
    });
    this.opened = undefined;
    return failed;
  }
}
