import type { Sample } from './track.js';

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;

export type StateName = 'up' | 'degraded' | 'down' | 'unknown';

/** One rollup row: probe figures and/or time spent per state, for one key and one period. */
export interface RollupRow {
  t: number;
  key: string;
  n: number;
  ok: number;
  sent: number;
  lost: number;
  rtt_sum: number;
  rtt_n: number;
  rtt_max: number | null;
  up_ms: number;
  degraded_ms: number;
  down_ms: number;
  unknown_ms: number;
}

export function emptyRow(t: number, key: string): RollupRow {
  return {
    t,
    key,
    n: 0,
    ok: 0,
    sent: 0,
    lost: 0,
    rtt_sum: 0,
    rtt_n: 0,
    rtt_max: null,
    up_ms: 0,
    degraded_ms: 0,
    down_ms: 0,
    unknown_ms: 0,
  };
}

/** Adds b into a (same t/key): the additive merge SQLite's upsert does too. */
export function mergeRows(a: RollupRow, b: RollupRow): RollupRow {
  return {
    ...a,
    n: a.n + b.n,
    ok: a.ok + b.ok,
    sent: a.sent + b.sent,
    lost: a.lost + b.lost,
    rtt_sum: a.rtt_sum + b.rtt_sum,
    rtt_n: a.rtt_n + b.rtt_n,
    rtt_max: a.rtt_max === null ? b.rtt_max : b.rtt_max === null ? a.rtt_max : Math.max(a.rtt_max, b.rtt_max),
    up_ms: a.up_ms + b.up_ms,
    degraded_ms: a.degraded_ms + b.degraded_ms,
    down_ms: a.down_ms + b.down_ms,
    unknown_ms: a.unknown_ms + b.unknown_ms,
  };
}

/**
 * In-memory 1-minute buckets (by wall clock, the period people read on a chart) until a
 * minute is complete and flushed. State time is measured on the monotonic clock and split
 * across minute boundaries.
 */
export class MinuteRollup {
  private readonly buckets = new Map<string, RollupRow>();

  private bucket(t: number, key: string): RollupRow {
    const minute = Math.floor(t / MINUTE_MS) * MINUTE_MS;
    const id = `${minute}|${key}`;
    let b = this.buckets.get(id);
    if (!b) {
      b = emptyRow(minute, key);
      this.buckets.set(id, b);
    }
    return b;
  }

  addSample(key: string, s: Sample): void {
    const b = this.bucket(s.wall, key);
    b.n++;
    if (s.ok) b.ok++;
    b.sent += s.sent;
    b.lost += s.lost;
    if (s.ok && s.latency_ms !== null) {
      b.rtt_sum += s.latency_ms;
      b.rtt_n++;
      b.rtt_max = b.rtt_max === null ? s.latency_ms : Math.max(b.rtt_max, s.latency_ms);
    }
  }

  /** `ms` spent in `state`, ending at wall time `endWall`. */
  addState(key: string, state: StateName, endWall: number, ms: number): void {
    let remaining = Math.max(0, Math.round(ms));
    let end = endWall;
    while (remaining > 0) {
      const minuteStart = Math.floor((end - 1) / MINUTE_MS) * MINUTE_MS;
      const part = Math.min(remaining, end - minuteStart);
      const b = this.bucket(minuteStart, key);
      b[`${state}_ms`] += part;
      remaining -= part;
      end = minuteStart;
    }
  }

  /** Removes and returns the buckets of minutes that started before `beforeWall` (all if omitted). */
  take(beforeWall = Number.POSITIVE_INFINITY): RollupRow[] {
    const out: RollupRow[] = [];
    for (const [id, b] of this.buckets) {
      if (b.t + MINUTE_MS <= beforeWall) {
        out.push(b);
        this.buckets.delete(id);
      }
    }
    return out;
  }

  get size(): number {
    return this.buckets.size;
  }
}
