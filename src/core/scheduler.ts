import cron from 'node-cron';
import type { Clock } from './clock.js';
import { CoarseTick, TICK_MS } from './coarse-tick.js';
import type { Logger } from './logger.js';
import type { PeriodicTask, TaskHandle } from './periodic-task.js';

export type { PeriodicTask, TaskHandle } from './periodic-task.js';

export interface CronTask {
  name: string;
  expression: string;
  /** Random delay up to this before each run (node-cron maxRandomDelay). */
  jitterMs?: number;
  timeoutMs: number;
  run(signal: AbortSignal): Promise<void> | void;
}

/**
 * The only owner of timers in the daemon (STYLE rule 6). Runs never overlap: the next run is
 * armed after the previous one settles. Node's timers run on the monotonic clock, so a wall
 * clock jump neither fires nor starves a task.
 */
export class Scheduler {
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly handles = new Set<TaskHandle>();
  private readonly crons = new Set<{ stop(): unknown; destroy(): unknown }>();
  private readonly random: () => number;
  private readonly tick: CoarseTick;
  private stopped = false;

  constructor(deps: { clock: Clock; log: Logger; random?: () => number }) {
    this.clock = deps.clock;
    this.log = deps.log;
    this.random = deps.random ?? Math.random;
    this.tick = new CoarseTick({
      clock: this.clock,
      timerNow: () => performance.now(),
      random: this.random,
      setTimer: (fn, ms) => this.setTimer(fn, ms),
      clearTimer: (t) => this.clearTimer(t),
      runOne: (name, signal, run) => this.runGuarded(name, signal, run),
      onDeadline: (name, timeoutMs) => this.log.warn({ task: name, timeoutMs }, 'task exceeded its deadline'),
    });
  }

  every(task: PeriodicTask): TaskHandle {
    if (task.coarse && task.intervalMs >= TICK_MS && !this.stopped) {
      const inner = this.tick.add(task);
      const handle: TaskHandle = {
        ...inner,
        cancel: () => {
          inner.cancel();
          this.handles.delete(handle);
        },
      };
      this.handles.add(handle);
      return handle;
    }
    let timer: NodeJS.Timeout | undefined;
    let running = false;
    let cancelled = false;
    let rerun = false;
    let last: number | undefined;
    let due: number | undefined;
    const jitter = () => (task.jitterMs ? Math.floor(this.random() * task.jitterMs) : 0);

    const arm = (delayMs: number) => {
      if (cancelled || this.stopped) return;
      if (timer) this.clearTimer(timer);
      timer = this.setTimer(() => void fire(), delayMs);
    };

    const fire = async () => {
      timer = undefined;
      if (running) {
        rerun = true;
        return;
      }
      running = true;
      const started = this.clock.monoMs();
      await this.runBounded(task.name, task.timeoutMs ?? task.intervalMs, task.run);
      running = false;
      last = this.clock.monoMs();
      if (rerun) {
        rerun = false;
        arm(0);
        return;
      }
      if (task.fixedRate) {
        const base = due ?? started;
        const missed = Math.max(0, Math.floor((last - base) / task.intervalMs));
        due = base + (missed + 1) * task.intervalMs;
        arm(due - last);
        return;
      }
      // Keep the cadence: subtract the run's own duration from the next wait.
      const elapsed = last - started;
      arm(Math.max(0, task.intervalMs - elapsed) + jitter());
    };

    const handle: TaskHandle = {
      name: task.name,
      trigger: () => {
        due = undefined; // a triggered run starts a new phase
        if (running) rerun = true;
        else arm(0);
      },
      cancel: () => {
        cancelled = true;
        if (timer) this.clearTimer(timer);
        this.handles.delete(handle);
      },
      lastRunMono: () => last,
    };
    this.handles.add(handle);
    const first = task.initialDelayMs ?? Math.floor(this.random() * task.intervalMs);
    if (task.fixedRate) due = this.clock.monoMs() + first;
    arm(first);
    return handle;
  }

  /** A one-shot delay on the scheduler (cancelled on stop). */
  after(name: string, delayMs: number, fn: () => void): { cancel(): void } {
    const t = this.setTimer(() => {
      try {
        fn();
      } catch (err) {
        this.log.error({ err, task: name }, 'one-shot task failed');
      }
    }, delayMs);
    return { cancel: () => this.clearTimer(t) };
  }

  /** Wall-clock schedules (cron expressions, in WIB) for things people plan by the calendar. */
  cron(task: CronTask): { cancel(): void } {
    let running = false;
    const job = cron.schedule(
      task.expression,
      async () => {
        if (running || this.stopped) return;
        running = true;
        await this.runBounded(task.name, task.timeoutMs, task.run);
        running = false;
      },
      { name: task.name, timezone: 'Asia/Jakarta', noOverlap: true, maxRandomDelay: task.jitterMs ?? 0 },
    );
    this.crons.add(job);
    return {
      cancel: () => {
        job.destroy();
        this.crons.delete(job);
      },
    };
  }

  stop(): void {
    this.stopped = true;
    for (const h of [...this.handles]) h.cancel();
    this.tick.stop();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const c of this.crons) c.destroy();
    this.crons.clear();
  }

  private async runBounded(
    name: string,
    timeoutMs: number,
    run: (signal: AbortSignal) => Promise<void> | void,
  ) {
    const controller = new AbortController();
    const deadline = this.setTimer(() => {
      this.log.warn({ task: name, timeoutMs }, 'task exceeded its deadline');
      controller.abort(new Error(`${name} exceeded ${timeoutMs} ms`));
    }, timeoutMs);
    try {
      await this.runGuarded(name, controller.signal, run);
    } finally {
      this.clearTimer(deadline);
    }
  }

  /** One run; failures are logged, never thrown. */
  private async runGuarded(
    name: string,
    signal: AbortSignal,
    run: (signal: AbortSignal) => Promise<void> | void,
  ): Promise<void> {
    try {
      await run(signal);
    } catch (err) {
      // An abort the task surfaced as an error was already reported when it was aborted.
      if (!signal.aborted) this.log.error({ err, task: name }, 'task failed');
    }
  }

  private setTimer(fn: () => void, ms: number): NodeJS.Timeout {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
    return t;
  }

  private clearTimer(t: NodeJS.Timeout) {
    clearTimeout(t);
    this.timers.delete(t);
  }
}
