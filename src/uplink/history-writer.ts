import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { Store } from '../store/store.js';
import type { HistoryRepo, HistoryTable, RawBatch } from './history-repo.js';
import { HOUR_MS, MinuteRollup, type StateName } from './rollup.js';
import type { Sample } from './track.js';

/** Longest gap between two verdicts credited to a state (a suspended box is not "up"). */
const MAX_STATE_GAP_MS = 60_000;
const PRUNE_SLICE = 500;
const PRUNE_SLICES_PER_RUN = 4;

/**
 * Buffers rounds and state time in memory and writes them in one NORMAL-sync transaction per
 * flush (about once a minute): a handful of pages per minute instead of one commit per round.
 */
export interface HistoryWriterDeps {
  history: HistoryRepo;
  store: Store;
  clock: Clock;
  log: Logger;
  /** When the disk runs low, raw rounds (the lowest-value writes) are dropped first. */
  diskGuard?: { allowLowValueWrites(): boolean };
}

export class HistoryWriter {
  private readonly deps: HistoryWriterDeps;
  private readonly rollup = new MinuteRollup();
  private raw = new Map<string, RawBatch>();
  private lastHour: number | null = null;

  constructor(deps: HistoryWriterDeps) {
    this.deps = deps;
  }

  addSample(probe: string, layer: string, s: Sample, fields: Record<string, unknown>): void {
    this.rollup.addSample(probe, s);
    let b = this.raw.get(probe);
    if (!b) {
      b = {
        probe,
        layer,
        start_wall: s.wall,
        end_wall: s.wall,
        clock_synced: this.deps.clock.synced(),
        rounds: [],
        extra: {},
      };
      this.raw.set(probe, b);
    }
    b.end_wall = s.wall;
    const latency = s.latency_ms === null ? null : Math.round(s.latency_ms * 10) / 10;
    // Only rounds that say something beyond "ok" keep their fields: most rounds are ok.
    const interesting = !s.ok || s.lost > 0 || Number(fields.duplicates ?? 0) > 0;
    if (interesting) b.extra[b.rounds.length] = fields;
    b.rounds.push([s.wall - b.start_wall, s.outcome, latency]);
  }

  /** Credits `elapsedMs` (monotonic) ending now to each key's state. */
  addStates(states: Record<string, StateName>, elapsedMs: number, endWall: number): void {
    const ms = Math.min(Math.max(0, elapsedMs), MAX_STATE_GAP_MS);
    if (ms === 0) return;
    for (const [key, state] of Object.entries(states)) this.rollup.addState(key, state, endWall, ms);
  }

  /** Writes buffered rounds and complete minutes; `final` also writes the current minute (stop). */
  flush(final = false): void {
    const now = this.deps.clock.wallMs();
    const keepRaw = this.deps.diskGuard?.allowLowValueWrites() ?? true;
    const batches = keepRaw ? [...this.raw.values()] : [];
    this.raw = new Map();
    const minutes = this.rollup.take(final ? undefined : now);
    if (batches.length === 0 && minutes.length === 0) return;
    const hour = Math.floor(now / HOUR_MS) * HOUR_MS;
    try {
      this.deps.store.batch(() => {
        this.deps.history.insertRaw(batches);
        this.deps.history.addMinutes(minutes);
        // Recompute the hour(s) just finished once, and the running hour at stop.
        if (this.lastHour === null) this.deps.history.rollupHours(hour - 2 * HOUR_MS, hour);
        else if (hour > this.lastHour) this.deps.history.rollupHours(this.lastHour, hour);
        if (final) this.deps.history.rollupHours(hour, hour + HOUR_MS);
      });
      this.lastHour = hour;
    } catch (err) {
      // Derived data: losing a minute of history must not stop the monitoring.
      this.deps.log.warn(
        { err, rounds: batches.length, minutes: minutes.length },
        'uplink history write failed',
      );
    }
  }

  /** Drops expired rows in small slices; returns how many went. */
  prune(): number {
    const now = this.deps.clock.wallMs();
    let total = 0;
    for (const table of ['uplink_raw', 'uplink_minute', 'uplink_hour'] as HistoryTable[]) {
      for (let i = 0; i < PRUNE_SLICES_PER_RUN; i++) {
        const n = this.deps.store.batch(() => this.deps.history.pruneSlice(table, now, PRUNE_SLICE));
        total += n;
        if (n < PRUNE_SLICE) break;
      }
    }
    return total;
  }
}
