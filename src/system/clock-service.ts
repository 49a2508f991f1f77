import type { Clock } from '../core/clock.js';
import type { ClockSyncChecker } from '../core/clock-sync.js';
import { isDiskFull } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { Scheduler, TaskHandle } from '../core/scheduler.js';
import type { Service } from '../core/service.js';
import type { ClockStatus, StatusSection } from '../status/types.js';
import type { StateRepo } from '../store/state-repo.js';
import type { AlertSink } from './alert-sink.js';
import { JumpDetector } from './jump-detector.js';
import type { Restamper } from './restamper.js';

/** Jump checks are pure arithmetic on two clock reads: cheap enough to do often. */
const JUMP_CHECK_MS = 2000;

export interface ClockSection extends ClockStatus {
  jumps: number;
  last_jump_at: string | null;
  unsynced_for_s: number | null;
  restamped_rows: number;
}

export interface ClockServiceDeps {
  checker: ClockSyncChecker;
  scheduler: Scheduler;
  clock: Clock;
  sink: AlertSink;
  restamper: Restamper;
  state: StateRepo;
  log: Logger;
  config: { clock_check_interval_s: number; clock_jump_threshold_s: number; clock_unsynced_alert_s: number };
}

/**
 * Clock trust: keeps "synced?" fresh, detects wall-clock jumps against the monotonic clock,
 * alerts when the clock stays unsynced too long, and re-stamps records made while unsynced
 * once it syncs. Timers run on the monotonic clock, so none of this is fooled by a jump.
 */
export class ClockService implements Service, StatusSection<'clock'> {
  readonly name = 'clock';
  readonly section = 'clock';
  private readonly d: ClockServiceDeps;
  private readonly detector: JumpDetector;
  private tasks: TaskHandle[] = [];
  private syncTask: TaskHandle | undefined;
  private wasSynced = false;
  private unsyncedSinceMono: number | undefined;
  private unsyncedAlerted = false;
  private seenUnsynced = false;
  private lastJumpS: number | null = null;
  private lastJumpAt: string | null = null;
  private jumps = 0;
  private restampedRows = 0;

  constructor(deps: ClockServiceDeps) {
    this.d = deps;
    this.detector = new JumpDetector(deps.config.clock_jump_threshold_s * 1000);
  }

  async start(): Promise<void> {
    const { d } = this;
    const saved = d.state.get<{ last_jump_s: number | null; last_jump_at: string | null }>('clock');
    this.lastJumpS = saved?.value.last_jump_s ?? null;
    this.lastJumpAt = saved?.value.last_jump_at ?? null;
    this.detector.observe(d.clock.wallMs(), d.clock.monoMs());
    await d.checker.check();
    this.afterCheck();
    this.syncTask = d.scheduler.every({
      name: 'clock-sync',
      coarse: true,
      intervalMs: d.config.clock_check_interval_s * 1000,
      timeoutMs: 5000,
      run: async (signal) => {
        await d.checker.check(signal);
        this.afterCheck();
      },
    });
    this.tasks.push(
      this.syncTask,
      d.scheduler.every({
        name: 'clock-jump',
        coarse: true,
        intervalMs: JUMP_CHECK_MS,
        initialDelayMs: JUMP_CHECK_MS,
        run: () => this.checkJump(),
      }),
    );
  }

  stop(): void {
    for (const t of this.tasks) t.cancel();
    this.tasks = [];
  }

  live(): ClockSection {
    const s = this.d.checker.current();
    return {
      synced: s.synced,
      last_jump_s: this.lastJumpS,
      source: s.source,
      jumps: this.jumps,
      last_jump_at: this.lastJumpAt,
      unsynced_for_s:
        this.unsyncedSinceMono === undefined
          ? null
          : Math.round((this.d.clock.monoMs() - this.unsyncedSinceMono) / 1000),
      restamped_rows: this.restampedRows,
    };
  }

  checkJump(): void {
    const { d } = this;
    const jump = this.detector.observe(d.clock.wallMs(), d.clock.monoMs());
    if (jump === null) return;
    this.jumps++;
    this.lastJumpS = jump;
    this.lastJumpAt = new Date(d.clock.wallMs()).toISOString();
    d.sink.raise({
      code: 'clock_jump',
      severity: 'warning',
      message: `the wall clock jumped by ${jump} s`,
      details: { jump_s: jump, synced: d.clock.synced() },
    });
    this.persist();
    // A step often means NTP just synchronised: look now rather than at the next poll.
    this.syncTask?.trigger();
  }

  private afterCheck(): void {
    const { d } = this;
    const synced = d.checker.synced();
    const now = d.clock.monoMs();
    if (synced) {
      this.unsyncedSinceMono = undefined;
      if (!this.wasSynced) this.onSynced();
    } else {
      this.seenUnsynced = true;
      this.unsyncedSinceMono ??= now;
      const forS = (now - this.unsyncedSinceMono) / 1000;
      if (!this.unsyncedAlerted && forS >= d.config.clock_unsynced_alert_s) {
        this.unsyncedAlerted = true;
        d.sink.raise({
          code: 'clock_unsynced',
          severity: 'warning',
          message: `the clock has not been synchronised for ${Math.round(forS)} s: check NTP / the uplink`,
          details: { unsynced_s: Math.round(forS), state: 'raised' },
        });
      }
    }
    if (synced !== this.wasSynced) {
      this.wasSynced = synced;
      this.persist();
    }
  }

  private onSynced(): void {
    const { d } = this;
    try {
      const counts = d.restamper.run();
      const rows = Object.values(counts).reduce((a, b) => a + b, 0);
      this.restampedRows += rows;
      if (rows > 0) d.log.info({ counts }, 'records re-stamped after clock sync');
    } catch (err) {
      d.log.error({ err }, 're-stamping failed');
    }
    // At start on a synced box there is nothing to announce.
    if (!this.seenUnsynced) return;
    d.sink.raise({
      code: 'clock_synced',
      severity: 'info',
      message: 'the clock is synchronised',
      details: { source: d.checker.current().source, restamped_rows: this.restampedRows, state: 'cleared' },
    });
    this.unsyncedAlerted = false;
  }

  private persist(): void {
    try {
      const s = this.live();
      this.d.state.put(
        'clock',
        { synced: s.synced, last_jump_s: s.last_jump_s, last_jump_at: s.last_jump_at, source: s.source },
        this.d.clock.wallMs(),
      );
    } catch (err) {
      if (!isDiskFull(err)) this.d.log.error({ err }, 'cannot save clock state');
    }
  }
}
