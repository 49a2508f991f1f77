/** What the Scheduler runs periodically and the handle it gives back (shared by scheduler.ts and coarse-tick.ts). */
export interface PeriodicTask {
  name: string;
  intervalMs: number;
  /** Random extra delay 0..jitterMs before each run, so probes and villages do not align. */
  jitterMs?: number;
  /** Deadline of one run; the run's AbortSignal fires when it passes. Defaults to intervalMs. */
  timeoutMs?: number;
  /** First run after this delay (default: a random point within one interval). */
  initialDelayMs?: number;
  /**
   * Keep a fixed phase: each run is due exactly one interval after the previous one was due
   * (late timers do not accumulate drift; a run that overruns skips the missed beats). For a
   * beat that other periodic things (an fping) are aligned with. Jitter is ignored.
   */
  fixedRate?: boolean;
  /**
   * Run on the scheduler's shared 1 s tick (see CoarseTick) instead of a timer of its own:
   * interval, jitter, first delay and deadline are rounded up to whole seconds, and all coarse
   * tasks due together run in one wake-up of the process. For housekeeping that needs no
   * sub-second timing. Ignored for intervals under a second. Coarse tasks keep a fixed rate.
   */
  coarse?: boolean;
  run(signal: AbortSignal): Promise<void> | void;
}

export interface TaskHandle {
  readonly name: string;
  /** Run now (if not already running) and restart the interval from then. */
  trigger(): void;
  cancel(): void;
  /** Monotonic time of the last completed run, or undefined. */
  lastRunMono(): number | undefined;
}
