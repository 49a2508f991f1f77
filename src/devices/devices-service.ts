import type { Config } from '../config/schema.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { Scheduler, TaskHandle } from '../core/scheduler.js';
import type { Service } from '../core/service.js';
import type { GatewayBus } from '../events.js';
import type { StatusSection } from '../status/types.js';
import { DEVICE_TOKEN_POLICY, FailureThrottle } from '../store/failure-throttle.js';
import type { SectionState } from '../store/live-snapshot.js';
import type { Store } from '../store/store.js';
import { ChangesRepo } from './changes-repo.js';
import { DeviceAuth } from './device-auth.js';
import { DeviceMonitor, type ProbeFactory } from './device-monitor.js';
import type { DevicePushOptions } from './push-routes.js';
import type { DeviceTechRoutesOptions } from './tech-routes.js';
import { type Durability, type TransactionHook, UsageIngest } from './usage-ingest.js';
import { UsageRepo } from './usage-repo.js';

const DAY_MS = 86_400_000;
/** Hourly usage counts and the state-change log are kept this long (monthly reports, evidence). */
export const KEEP_AGGREGATES_MS = 400 * DAY_MS;
/** Raw events (for duplicate detection and re-publication) are kept this long. */
export const KEEP_RAW_MS = 90 * DAY_MS;

export interface DevicesDeps {
  config: Pick<Config, 'devices'>;
  clock: Clock;
  log: Logger;
  scheduler: Scheduler;
  store: Store;
  bus: GatewayBus;
  runId: string;
  /** Where the status section is kept (the runtime directory's live snapshot). */
  state: SectionState;
  createProbe?: ProbeFactory;
  /** Group-commit window (0 = one event-loop turn). */
  commitWindowMs?: number;
  /** How acknowledged events reach the disk (see UsageIngest); default 'full' = Store.durable(). */
  durability?: Durability;
  persistEveryMs?: number;
  /** Run inside each usage commit (the report module's outbox): see UsageIngest `hooks`. */
  usageHooks?: readonly TransactionHook[];
}

/**
 * The devices module as one service: inventory and tokens, the state machine, usage ingest,
 * and daily pruning. Exposes the option objects of its two route plugins.
 */
export class DevicesService implements Service {
  readonly name = 'devices';
  readonly auth: DeviceAuth;
  readonly monitor: DeviceMonitor;
  readonly ingest: UsageIngest;
  readonly usage: UsageRepo;
  readonly changes: ChangesRepo;
  private readonly d: DevicesDeps;
  private readonly log: Logger;
  private prune: TaskHandle | undefined;

  constructor(deps: DevicesDeps) {
    this.d = deps;
    const db = () => deps.store.db;
    const log = deps.log.child({ component: 'devices' });
    this.log = log;
    this.auth = new DeviceAuth(deps.config.devices, {
      throttle: new FailureThrottle({ db, clock: deps.clock, policy: DEVICE_TOKEN_POLICY }),
      log,
    });
    this.usage = new UsageRepo({ db });
    this.changes = new ChangesRepo({ db, clock: deps.clock });
    this.monitor = new DeviceMonitor({
      devices: deps.config.devices,
      clock: deps.clock,
      log,
      scheduler: deps.scheduler,
      store: deps.store,
      bus: deps.bus,
      changes: this.changes,
      state: deps.state,
      createProbe: deps.createProbe,
      persistEveryMs: deps.persistEveryMs,
    });
    this.ingest = new UsageIngest({
      store: deps.store,
      usage: this.usage,
      clock: deps.clock,
      bus: deps.bus,
      log,
      runId: deps.runId,
      windowMs: deps.commitWindowMs ?? 0,
      durability: deps.durability ?? 'full',
      hooks: deps.usageHooks,
      after: (ms, fn) => deps.scheduler.after('usage-group-commit', ms, fn),
    });
  }

  /** Push API answers per `<events|heartbeat> <status>` since start. */
  readonly answers = new Map<string, number>();

  get pushOptions(): DevicePushOptions {
    return { auth: this.auth, monitor: this.monitor, ingest: this.ingest, answers: this.answers };
  }

  /** Counters for /metrics (no personal data, no device tokens). */
  metrics() {
    return {
      events_accepted: this.ingest.totals.accepted,
      events_duplicate: this.ingest.totals.duplicates,
      ingest_commits: this.ingest.commits,
      wal_fsyncs: this.ingest.walSyncs ?? null,
      answers: Object.fromEntries(this.answers),
      devices_by_state: this.monitor.statuses().reduce<Record<string, number>>((acc, d) => {
        acc[d.state] = (acc[d.state] ?? 0) + 1;
        return acc;
      }, {}),
    };
  }

  get techOptions(): DeviceTechRoutesOptions {
    return { monitor: this.monitor, changes: this.changes, usage: this.usage, clock: this.d.clock };
  }

  get statusSection(): StatusSection<'devices'> {
    return { section: 'devices', live: () => this.monitor.statuses() };
  }

  /** Extra status key: refused device tokens and throttled addresses (SPEC welcomes more keys). */
  get securitySection(): StatusSection<'security'> {
    return { section: 'security', live: () => this.auth.counters() };
  }

  /** SIGHUP: re-reads every token file (a rotated kiosk token applies now); returns unusable ids. */
  reloadTokens(): string[] {
    const unreadable = this.auth.load(true);
    if (unreadable.length > 0)
      this.log.error({ devices: unreadable }, 'device token file unreadable on reload: last good token kept');
    else this.log.info({ devices: this.d.config.devices.length }, 'device tokens reloaded');
    return unreadable;
  }

  start(): void {
    const unreadable = this.auth.load();
    if (unreadable.length > 0)
      this.log.error({ devices: unreadable }, 'device token file unreadable: these devices cannot push');
    this.monitor.start();
    this.prune = this.d.scheduler.every({
      name: 'devices-prune',
      coarse: true,
      intervalMs: DAY_MS,
      initialDelayMs: 10 * 60_000,
      run: () => this.pruneOld(),
    });
  }

  async stop(): Promise<void> {
    this.prune?.cancel();
    await this.ingest.flush();
    this.monitor.stop();
  }

  /** Deletes what is past its keep time, only with a trusted wall clock (a wrong one could wipe all). */
  pruneOld(): void {
    const { clock, store } = this.d;
    if (!clock.synced()) return;
    const now = clock.wallMs();
    store.batch(() => {
      this.usage.prune(now, KEEP_AGGREGATES_MS, KEEP_RAW_MS);
      this.changes.prune(now - KEEP_AGGREGATES_MS);
    });
  }
}
