import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { Scheduler, TaskHandle } from '../core/scheduler.js';
import type { Service } from '../core/service.js';
import { wibDay } from '../core/wib.js';
import type { RegencyConfig } from './config-schema.js';
import { nextMonth, type PartitionRepo } from './store/partition-repo.js';
import { RAW_KINDS, REPORT_KINDS, type RetentionRepo } from './store/retention-repo.js';

const DAY_MS = 86_400_000;
const EVERY_MS = 3_600_000;
const FIRST_AFTER_MS = 60_000;

export interface PruneResult {
  /** Health and event envelopes deleted row by row. */
  raw: number;
  /** Month partitions of raw envelopes dropped whole (PostgreSQL). */
  partitions: number;
  /** About how many envelopes those partitions held (PostgreSQL's statistics; partition-repo.ts). */
  partition_rows: number;
  /** Outage and usage envelopes deleted (past the daily tier). */
  report: number;
  quarantine: number;
  /** Rows of the daily aggregates and bookkeeping deleted. */
  daily: number;
  /** Delete statements run (each one short transaction). */
  batches: number;
}

/**
 * The store's retention: raw envelopes (health, event) and the quarantine after
 * retention.raw_days; daily aggregates, report facts (outage, usage), the command audit and
 * delivered alerts after retention.daily_days. Whole WIB days go at once (a report month is
 * never cut mid-day); on PostgreSQL whole months of raw envelopes go as partitions first.
 * Runs hourly, in batches of retention.batch rows, yielding between them so ingest keeps
 * committing; stops between batches when the collector stops.
 */
export class Retention implements Service {
  readonly name = 'retention';
  private readonly d: {
    config: RegencyConfig;
    repo: RetentionRepo;
    /** PostgreSQL: the month partitions of raw envelopes, dropped whole once expired. */
    partitions?: PartitionRepo;
    clock: Clock;
    log: Logger;
    scheduler: Scheduler;
  };
  private task: TaskHandle | undefined;
  private running: Promise<PruneResult> | undefined;
  private stopping = false;

  constructor(deps: Retention['d']) {
    this.d = deps;
  }

  start(): void {
    const r = this.d.config.retention;
    if (r.raw_days === 0 && r.daily_days === 0) return;
    this.stopping = false;
    this.task = this.d.scheduler.every({
      name: 'retention',
      intervalMs: EVERY_MS,
      initialDelayMs: FIRST_AFTER_MS,
      timeoutMs: EVERY_MS,
      coarse: true,
      run: async () => {
        try {
          await this.prune();
        } catch (err) {
          this.d.log.warn({ err }, 'retention pass failed; next pass in an hour');
        }
      },
    });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.task?.cancel();
    this.task = undefined;
    await this.running?.catch(() => undefined);
  }

  /** One pass now (the hourly task, and tests). */
  prune(): Promise<PruneResult> {
    this.running ??= this.pass().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async pass(): Promise<PruneResult> {
    const { raw_days: rawDays, daily_days: dailyDays, batch } = this.d.config.retention;
    const now = this.d.clock.wallMs();
    const started = this.d.clock.monoMs();
    const res: PruneResult = {
      raw: 0,
      partitions: 0,
      partition_rows: 0,
      report: 0,
      quarantine: 0,
      daily: 0,
      batches: 0,
    };
    const drain = async (step: () => Promise<number>): Promise<number> => {
      let total = 0;
      for (;;) {
        if (this.stopping) return total;
        const n = await step();
        res.batches++;
        total += n;
        if (n < batch) return total;
        await new Promise<void>((r) => setImmediate(r));
      }
    };
    const villages = await this.d.repo.villages();
    if (rawDays > 0) {
      const day = wibDay(now - rawDays * DAY_MS);
      // A month that could not be dropped (its lock timed out) waits for the next pass rather
      // than go row by row: that is the month's whole raw stream.
      if (await this.dropMonths(day, res))
        for (const gw of villages)
          res.raw += await drain(() => this.d.repo.messages(gw, RAW_KINDS, day, batch));
      res.quarantine = await drain(() => this.d.repo.quarantine(now - rawDays * DAY_MS, batch));
    }
    if (dailyDays > 0) {
      const day = wibDay(now - dailyDays * DAY_MS);
      for (const gw of villages)
        res.report += await drain(() => this.d.repo.messages(gw, REPORT_KINDS, day, batch));
      if (!this.stopping) {
        res.daily = await this.d.repo.daily(day, now - dailyDays * DAY_MS);
        res.batches++;
      }
    }
    const deleted = res.raw + res.partition_rows + res.report + res.quarantine + res.daily;
    if (deleted > 0)
      this.d.log.info({ ...res, ms: Math.round(this.d.clock.monoMs() - started) }, 'retention pass');
    return res;
  }

  /**
   * Drops the month partitions whose every day is before `beforeDay` (PostgreSQL). Returns
   * false when one could not be dropped now.
   */
  private async dropMonths(beforeDay: string, res: PruneResult): Promise<boolean> {
    const repo = this.d.partitions;
    if (!repo) return true;
    for (const month of await repo.months()) {
      if (this.stopping) return false;
      if (`${nextMonth(month)}-01` > beforeDay) break;
      try {
        res.partition_rows += await repo.drop(month);
        res.partitions++;
      } catch (err) {
        this.d.log.warn({ err, month }, 'message partition not dropped; next try in an hour');
        return false;
      }
    }
    return true;
  }
}
