import type { Clock } from '../../core/clock.js';

/**
 * Simulated time: real time since the start × speed, from a wall-clock origin. While the
 * engine runs an event it pins `now()` to the event's own moment, so what a village stamps
 * (envelope ts, outage start/end) follows the scenario, not the engine's tick.
 */
export class FleetTime {
  readonly speed: number;
  readonly originWall: number;
  private readonly originReal: number;
  private readonly realMs: () => number;
  private pinned: number | undefined;

  constructor(deps: { speed: number; originWall: number; realMs?: () => number }) {
    this.speed = deps.speed;
    this.originWall = deps.originWall;
    this.realMs = deps.realMs ?? (() => performance.now());
    this.originReal = this.realMs();
  }

  /** Simulated wall milliseconds (the pinned event time while an event runs). */
  now(): number {
    return this.pinned ?? this.live();
  }

  live(): number {
    return this.originWall + (this.realMs() - this.originReal) * this.speed;
  }

  /** Simulated milliseconds since the start. */
  elapsed(): number {
    return this.now() - this.originWall;
  }

  /** Real milliseconds until simulated wall time `at`. */
  realDelay(at: number): number {
    return Math.max(0, (at - this.live()) / this.speed);
  }

  pin(at: number | undefined): void {
    this.pinned = at;
  }
}

/**
 * One village box's clock on simulated time. After a power cut a box without a real-time
 * clock starts from the time it saved at shutdown (fake-hwclock), so until NTP answers its
 * wall clock lags by the length of the cut and reports itself unsynced.
 */
export class VillageClock implements Clock {
  readonly kernelBootId: string;
  private readonly time: FleetTime;
  lagMs = 0;
  isSynced = true;

  constructor(time: FleetTime, kernelBootId: string) {
    this.time = time;
    this.kernelBootId = kernelBootId;
  }

  wallMs(): number {
    return this.time.now() - this.lagMs;
  }

  monoMs(): number {
    return this.time.elapsed();
  }

  synced(): boolean {
    return this.isSynced;
  }
}
