import type { Clock } from './clock.js';
import type { PeriodicTask, TaskHandle } from './periodic-task.js';

/** Period of the shared tick that coarse tasks run on. */
export const TICK_MS = 1000;

export interface CoarseTickDeps {
  /** For lastRunMono(), in the time base the rest of the daemon uses. */
  clock: Clock;
  /**
   * Monotonic ms of Node's timers (performance.now): the tick's own phase and deadlines are
   * bookkeeping for real timers, so they must not follow an injected (test) clock.
   */
  timerNow(): number;
  random: () => number;
  /** The scheduler's own timer (cancelled on stop). */
  setTimer(fn: () => void, ms: number): NodeJS.Timeout;
  clearTimer(t: NodeJS.Timeout): void;
  /** Runs one task under its signal, logging failures; settles when the run is over. */
  runOne(name: string, signal: AbortSignal, run: PeriodicTask['run']): Promise<void>;
  onDeadline(name: string, timeoutMs: number): void;
}

interface Entry {
  task: PeriodicTask;
  intervalTicks: number;
  /** Index of the tick the next run is due at (it runs at the first tick it is not running). */
  dueTick: number;
  run: { controller: AbortController; deadlineTick: number } | null;
  /** trigger() during a run: run again as soon as it ends (as a timer task does). */
  rerun: boolean;
  last: number | undefined;
}

/** A tick that fires a few ms early or late still counts as on time. */
const TOLERANCE_MS = 20;

/**
 * One fixed-rate 1 s timer for every coarse periodic task of the daemon. On a small box a
 * wake-up of the process costs more CPU than the work of a housekeeping task, so the beat of
 * the uplink, the clock-jump check, the disk check, status persistence and the like all run in
 * the same wake-up. Intervals, jitter, first delays and deadlines are rounded up to whole
 * ticks, so the tasks need neither a timer nor a deadline timer of their own (a cleared Node
 * timer may still wake the process once). The timer runs only while some coarse task exists;
 * the first task sets its phase, and a task is only ever started on a tick or by trigger().
 */
export class CoarseTick {
  private readonly d: CoarseTickDeps;
  private readonly entries = new Set<Entry>();
  private timer: NodeJS.Timeout | undefined;
  /** Index and monotonic due time of the next tick (fixed phase: late ticks do not drift). */
  private next = 0;
  private due = 0;

  constructor(deps: CoarseTickDeps) {
    this.d = deps;
  }

  add(task: PeriodicTask): TaskHandle {
    const now = this.d.timerNow();
    if (!this.timer) {
      this.due = now;
      this.arm(0);
    }
    const first = task.initialDelayMs ?? Math.floor(this.d.random() * task.intervalMs);
    const entry: Entry = {
      task,
      intervalTicks: Math.max(1, Math.ceil(task.intervalMs / TICK_MS - 1e-9)),
      dueTick: this.tickAtOrAfter(now + first),
      run: null,
      rerun: false,
      last: undefined,
    };
    this.entries.add(entry);
    return {
      name: task.name,
      trigger: () => {
        if (!this.entries.has(entry)) return;
        if (entry.run) entry.rerun = true;
        else void this.start(entry, this.next);
      },
      cancel: () => {
        this.entries.delete(entry);
        if (this.entries.size === 0) this.disarm();
      },
      lastRunMono: () => entry.last,
    };
  }

  stop(): void {
    this.entries.clear();
    this.disarm();
  }

  /** Index of the first tick at or after monotonic time t. */
  private tickAtOrAfter(t: number): number {
    return this.next + Math.max(0, Math.ceil((t - this.due - TOLERANCE_MS) / TICK_MS));
  }

  private arm(delayMs: number): void {
    this.timer = this.d.setTimer(() => this.tick(), delayMs);
  }

  private disarm(): void {
    if (this.timer) this.d.clearTimer(this.timer);
    this.timer = undefined;
  }

  private tick(): void {
    this.timer = undefined;
    const k = this.next;
    for (const e of [...this.entries]) {
      if (e.run) {
        if (k >= e.run.deadlineTick && !e.run.controller.signal.aborted) {
          const timeoutMs = e.task.timeoutMs ?? e.task.intervalMs;
          this.d.onDeadline(e.task.name, timeoutMs);
          e.run.controller.abort(new Error(`${e.task.name} exceeded ${timeoutMs} ms`));
        }
      } else if (k >= e.dueTick) void this.start(e, k);
    }
    if (this.entries.size === 0) return;
    const now = this.d.timerNow();
    const missed = Math.max(0, Math.floor((now - this.due) / TICK_MS));
    this.next += missed + 1;
    this.due += (missed + 1) * TICK_MS;
    this.arm(Math.max(0, this.due - now));
  }

  /** Starts a run; `base` is the tick its next run and its deadline count from. */
  private async start(e: Entry, base: number): Promise<void> {
    const jitterTicks = e.task.jitterMs ? Math.floor((this.d.random() * e.task.jitterMs) / TICK_MS) : 0;
    e.dueTick = base + e.intervalTicks + jitterTicks;
    const controller = new AbortController();
    const run = {
      controller,
      deadlineTick: this.tickAtOrAfter(this.d.timerNow() + (e.task.timeoutMs ?? e.task.intervalMs)),
    };
    e.run = run;
    await this.d.runOne(e.task.name, controller.signal, e.task.run);
    if (e.run === run) e.run = null;
    e.last = this.d.clock.monoMs();
    if (e.rerun && this.entries.has(e)) {
      e.rerun = false;
      void this.start(e, this.next);
    }
  }
}
