import { statfs } from 'node:fs/promises';
import type { Static } from '@sinclair/typebox';
import type { Clock } from '../core/clock.js';
import { isDiskFull } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { Scheduler, TaskHandle } from '../core/scheduler.js';
import type { Service } from '../core/service.js';
import { wibDay } from '../core/wib.js';
import type { StatusSection, SystemStatus } from '../status/types.js';
import type { SectionState } from '../store/live-snapshot.js';
import type { Store } from '../store/store.js';
import type { WriteTick } from '../store/write-tick.js';
import type { AlertSink } from './alert-sink.js';
import type { SystemConfigSchema } from './config-schema.js';
import type { DiskGuard, DiskState } from './disk-guard.js';
import { HealthAlerts } from './health-alerts.js';
import { HealthCollector, type HealthReading } from './health-collector.js';
import { type HealthHour, type HealthHourRepo, HealthHours } from './health-hours.js';
import { diskFromStatfs, round1 } from './readings.js';
import { WriteMeter } from './write-meter.js';
import type { WritesRepo } from './writes-repo.js';

export type SystemConfig = Static<typeof SystemConfigSchema>;

/** The SPEC's `system` section plus the extra facts a technician needs. */
export interface SystemSection extends SystemStatus, Partial<Omit<HealthReading, keyof SystemStatus>> {
  disk_state: DiskState;
  written_today_mb: number | null;
  write_budget_mb: number;
  alerts: string[];
  collected_at: string | null;
  /** Health readings taken by this run (shows the scheduler keeps its cadence). */
  collections: number;
}

const DISK_CHECK_MS = 5000;
/** The status row is rewritten at most this often (plus on every state change): SD wear. */
const PERSIST_EVERY_MS = 5 * 60_000;
const MB = 1024 * 1024;

export interface SystemServiceDeps {
  config: SystemConfig;
  dataDir: string;
  clock: Clock;
  scheduler: Scheduler;
  store: Store;
  state: SectionState;
  writeTick: Pick<WriteTick, 'add'>;
  writes: WritesRepo;
  /** Hourly health for the page's week of sparklines. */
  healthHours: HealthHourRepo;
  sink: AlertSink;
  guard: DiskGuard;
  log: Logger;
}

/** Box health and storage wear: collects, guards the disk, raises alerts, keeps `system` fresh. */
export class SystemService implements Service, StatusSection<'system'> {
  readonly name = 'system';
  readonly section = 'system';
  private readonly d: SystemServiceDeps;
  private readonly collector: HealthCollector;
  private readonly meter = new WriteMeter();
  private readonly hours = new HealthHours();
  private readonly alerts: HealthAlerts;
  private tasks: TaskHandle[] = [];
  private latest: HealthReading | undefined;
  private collectedAt: string | null = null;
  private collections = 0;
  private persistedMono: number | undefined;
  private persistedKey = '';
  private leaveTick: (() => void) | undefined;

  constructor(deps: SystemServiceDeps) {
    this.d = deps;
    this.collector = new HealthCollector({
      dataDir: deps.dataDir,
      dbPath: deps.store.path,
      clock: deps.clock,
    });
    this.alerts = new HealthAlerts({ sink: deps.sink, limits: deps.config });
  }

  async start(): Promise<void> {
    const { d } = this;
    await this.collector.start();
    const day = wibDay(d.clock.wallMs());
    this.meter.seed(day, this.readLedger(day));
    await this.checkDisk();
    this.leaveTick = d.writeTick.add({ name: 'write-ledger', write: () => this.writeLedger() });
    this.tasks.push(
      d.scheduler.every({
        name: 'system-disk',
        coarse: true,
        intervalMs: DISK_CHECK_MS,
        initialDelayMs: DISK_CHECK_MS,
        timeoutMs: 4000,
        run: () => this.checkDisk(),
      }),
      d.scheduler.every({
        name: 'system-health',
        coarse: true,
        intervalMs: d.config.health_interval_s * 1000,
        jitterMs: 1000,
        // First reading soon after start, but not on the start-up path.
        initialDelayMs: 500,
        timeoutMs: 10_000,
        run: (signal) => this.collect(signal),
      }),
    );
  }

  stop(): void {
    for (const t of this.tasks) t.cancel();
    this.tasks = [];
    this.leaveTick?.();
    this.leaveTick = undefined;
    const part = this.hours.take();
    if (part) this.writeHour(part);
    try {
      this.persist(true);
    } catch (err) {
      if (!isDiskFull(err)) this.d.log.warn({ err }, 'cannot save system state at stop');
    }
  }

  live(): SystemSection {
    const r = this.latest;
    const today = this.meter.today();
    return {
      cpu_load: r?.cpu_load ?? null,
      temperature_c: r?.temperature_c ?? null,
      throttled: r?.throttled ?? null,
      memory_used_pct: r?.memory_used_pct ?? null,
      disk_used_pct: r?.disk_used_pct ?? null,
      rss_mb: r?.rss_mb ?? round1(process.memoryUsage.rss() / MB),
      ...(r ? omitSpec(r) : {}),
      disk_free_mb: this.d.guard.freeBytes() === null ? null : round1((this.d.guard.freeBytes() ?? 0) / MB),
      disk_state: this.d.guard.state(),
      written_today_mb: r?.io_write_bytes == null ? null : round1(today.bytes / MB),
      write_budget_mb: this.d.config.write_budget_mb_per_day,
      alerts: this.alerts.active(),
      collected_at: this.collectedAt,
      collections: this.collections,
    };
  }

  /** Cheap (one statfs) and frequent, so writers learn about a full disk within seconds. */
  async checkDisk(): Promise<void> {
    const { d } = this;
    const disk = await statfs(d.dataDir).then(diskFromStatfs, () => null);
    if (!disk) return;
    const before = d.guard.state();
    const after = d.guard.update(disk.free_bytes);
    if (after !== before) {
      d.log.warn({ from: before, to: after, free_mb: round1(disk.free_bytes / MB) }, 'disk state changed');
    }
    this.alerts.diskState(after, round1(disk.free_bytes / MB));
    if (d.sink.waiting > 0 && after !== 'full') d.sink.flush();
    if (after !== before) this.persistSafe(true);
  }

  private async collect(signal: AbortSignal): Promise<void> {
    const { d } = this;
    const r = await this.collector.collect(signal);
    this.latest = r;
    this.collections++;
    const wall = d.clock.wallMs();
    this.collectedAt = new Date(wall).toISOString();
    const day = wibDay(wall);
    // A new day, or the clock jumped to another one: continue that day's ledger, never overwrite it.
    if (day !== this.meter.today().day) this.meter.seed(day, this.readLedger(day));
    const writtenMb =
      r.io_write_bytes === null ? null : round1(this.meter.sample(r.io_write_bytes, day) / MB);
    this.alerts.health(r, writtenMb);
    const hour = this.hours.add(wall, r);
    if (hour) this.writeHour(hour);
    this.persistSafe(false);
  }

  /** The running hour's readings so far (not yet written). */
  runningHour(): HealthHour | null {
    return this.hours.peek();
  }

  /** Low-value derived data: one small row an hour, skipped while the disk is under its floor. */
  private writeHour(hour: HealthHour): void {
    const { d } = this;
    if (!d.guard.allowLowValueWrites()) return;
    try {
      d.store.batch(() => d.healthHours.add(hour));
    } catch (err) {
      if (isDiskFull(err)) this.diskFull();
      else d.log.warn({ err }, 'cannot save the hourly health reading');
    }
  }

  private readLedger(day: string): number {
    try {
      return this.d.writes.get(day);
    } catch (err) {
      this.d.log.warn({ err }, 'cannot read the write ledger');
      return 0;
    }
  }

  /**
   * A write of ours failed with a full disk: refuse acknowledged writes now, and check the disk
   * at once rather than at the next round, so the full episode is announced and recorded
   * however soon space returns.
   */
  private diskFull(): void {
    this.d.guard.noteFull();
    this.checkDisk().catch((err: unknown) => this.d.log.warn({ err }, 'disk check failed'));
  }

  private persistSafe(force: boolean): void {
    try {
      this.persist(force);
    } catch (err) {
      if (isDiskFull(err)) this.diskFull();
      else this.d.log.error({ err }, 'cannot save system state');
    }
  }

  /**
   * The `system` section of the live snapshot (runtime directory, not the SD card: also kept
   * while the disk is under its floor, when it matters most); at stop, the write ledger too.
   */
  private persist(force: boolean): void {
    const { d } = this;
    const now = d.clock.monoMs();
    const section = this.live();
    const key = `${section.disk_state}|${section.alerts.join(',')}`;
    const due = this.persistedMono === undefined || now - this.persistedMono >= PERSIST_EVERY_MS;
    if (force || due || key !== this.persistedKey) {
      d.state.put('system', section, d.clock.wallMs());
      this.persistedMono = now;
      this.persistedKey = key;
    }
    // Otherwise written on the write tick.
    if (force) d.store.batch(() => this.writeLedger(true));
  }

  /** Today's bytes written (the write ledger), on the write tick. Low-value: skipped while the disk is under its floor. */
  private writeLedger(force = false): void {
    const { d } = this;
    if (!force && !d.guard.allowLowValueWrites()) return;
    const today = this.meter.today();
    if (today.day) d.writes.put(today.day, today.bytes, d.clock.wallMs());
  }
}

function omitSpec(r: HealthReading): Partial<HealthReading> {
  const { cpu_load, temperature_c, throttled, memory_used_pct, disk_used_pct, rss_mb, ...rest } = r;
  return rest;
}
