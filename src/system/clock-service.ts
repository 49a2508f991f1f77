import type { ClockSyncChecker } from '../core/clock-sync.js';
import type { Scheduler, TaskHandle } from '../core/scheduler.js';
import type { Service } from '../core/service.js';
import type { ClockStatus, StatusSection } from '../status/types.js';

const CHECK_EVERY_MS = 60_000;

/** Keeps the clock's "synced?" answer fresh without any I/O on the callers' paths. */
export class ClockService implements Service, StatusSection<'clock'> {
  readonly name = 'clock';
  readonly section = 'clock';
  private readonly checker: ClockSyncChecker;
  private readonly scheduler: Scheduler;
  private task: TaskHandle | undefined;

  constructor(deps: { checker: ClockSyncChecker; scheduler: Scheduler }) {
    this.checker = deps.checker;
    this.scheduler = deps.scheduler;
  }

  async start(): Promise<void> {
    await this.checker.check();
    this.task = this.scheduler.every({
      name: 'clock-sync',
      intervalMs: CHECK_EVERY_MS,
      timeoutMs: 5000,
      run: async (signal) => {
        await this.checker.check(signal);
      },
    });
  }

  stop(): void {
    this.task?.cancel();
  }

  live(): ClockStatus {
    const s = this.checker.current();
    return { synced: s.synced, last_jump_s: null, source: s.source };
  }
}
