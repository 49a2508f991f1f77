import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { Scheduler, TaskHandle } from '../core/scheduler.js';
import type { Service } from '../core/service.js';
import { wibDay } from '../core/wib.js';
import { monthsFrom, type PartitionRepo } from './store/partition-repo.js';

const EVERY_MS = 3_600_000;
/** Months made ahead of the current one: a month's partition exists weeks before its first row. */
export const MONTHS_AHEAD = 2;

/**
 * Keeps the month partitions of `messages` (PostgreSQL) made ahead: the current WIB month
 * and the next MONTHS_AHEAD, at start (before the collector subscribes) and hourly, whatever
 * the retention policy. A failure is logged, never fatal: rows of a month without its
 * partition land in the default partition, and the next pass moves them when it makes it.
 * Dropping expired months is the retention pass's (retention.ts).
 */
export class PartitionUpkeep implements Service {
  readonly name = 'partitions';
  private readonly d: { repo: PartitionRepo; clock: Clock; log: Logger; scheduler: Scheduler };
  private task: TaskHandle | undefined;

  constructor(deps: PartitionUpkeep['d']) {
    this.d = deps;
  }

  async start(): Promise<void> {
    await this.ensure();
    this.task = this.d.scheduler.every({
      name: 'partitions',
      intervalMs: EVERY_MS,
      timeoutMs: EVERY_MS,
      coarse: true,
      run: () => this.ensure().then(() => undefined),
    });
  }

  stop(): void {
    this.task?.cancel();
    this.task = undefined;
  }

  /** Makes the missing months; returns them. */
  async ensure(): Promise<string[]> {
    const months = monthsFrom(wibDay(this.d.clock.wallMs()).slice(0, 7), MONTHS_AHEAD);
    try {
      const made = await this.d.repo.ensure(months);
      if (made.length > 0) this.d.log.info({ months: made }, 'message partitions made');
      return made;
    } catch (err) {
      this.d.log.warn({ err, months }, 'message partitions not made; next try in an hour');
      return [];
    }
  }
}
