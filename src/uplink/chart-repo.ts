import type { Database } from 'better-sqlite3';
import { WIB_OFFSET_MS } from '../core/wib.js';
import { HOUR_MS, MINUTE_MS } from './rollup.js';

const DAY_MS = 24 * HOUR_MS;

/** One bucket of one key (`link` or `layer:<name>`), summed over its rollup rows. */
export interface BucketRow {
  b: number;
  key: string;
  sent: number;
  lost: number;
  rtt_sum: number;
  rtt_n: number;
  up_ms: number;
  degraded_ms: number;
  down_ms: number;
  unknown_ms: number;
}

export interface Span {
  start: number;
  end: number;
}

export interface OutageSpan extends Span {
  fault_layer: string | null;
  clock_synced: boolean;
  ongoing: boolean;
}

const SUMS = `SUM(sent) AS sent, SUM(lost) AS lost, SUM(rtt_sum) AS rtt_sum, SUM(rtt_n) AS rtt_n,
  SUM(up_ms) AS up_ms, SUM(degraded_ms) AS degraded_ms, SUM(down_ms) AS down_ms, SUM(unknown_ms) AS unknown_ms`;
const KEYS = `(key = 'link' OR key LIKE 'layer:%')`;

/**
 * The uplink tables summed into the few dozen points a phone draws: buckets aligned on WIB,
 * availability per WIB day, down minutes per weekday × hour. The running hour is not rolled
 * up yet, so hour-based sums take it from the minute rows.
 */
export class ChartRepo {
  private readonly db: () => Database;

  constructor(deps: { db: () => Database }) {
    this.db = deps.db;
  }

  /** Hourly rows before the running hour, its minute rows after: every measured minute once. */
  private hours(nowWall: number): { sql: string; args: number[] } {
    const hour = Math.floor(nowWall / HOUR_MS) * HOUR_MS;
    const cols = 't, key, sent, lost, rtt_sum, rtt_n, up_ms, degraded_ms, down_ms, unknown_ms';
    return {
      sql: `(SELECT ${cols} FROM uplink_hour WHERE t < ? UNION ALL SELECT ${cols} FROM uplink_minute WHERE t >= ?)`,
      args: [hour, hour],
    };
  }

  /** Sums per `stepMs` bucket (aligned on WIB) in [fromWall, toWall). */
  buckets(fromWall: number, toWall: number, stepMs: number, nowWall: number): BucketRow[] {
    const src = stepMs < HOUR_MS ? { sql: 'uplink_minute', args: [] as number[] } : this.hours(nowWall);
    return this.db()
      .prepare(
        `SELECT ((t + ${WIB_OFFSET_MS}) / ${stepMs}) * ${stepMs} - ${WIB_OFFSET_MS} AS b, key, ${SUMS}
         FROM ${src.sql} WHERE t >= ? AND t < ? AND ${KEYS} GROUP BY b, key ORDER BY b, key`,
      )
      .all(...src.args, fromWall, toWall) as BucketRow[];
  }

  /** The link's time up/degraded/down per WIB calendar day in [fromWall, toWall). */
  days(
    fromWall: number,
    toWall: number,
    nowWall: number,
  ): Array<{ day: number; good: number; down: number }> {
    const src = this.hours(nowWall);
    return this.db()
      .prepare(
        `SELECT ((t + ${WIB_OFFSET_MS}) / ${DAY_MS}) AS day, SUM(up_ms + degraded_ms) AS good, SUM(down_ms) AS down
         FROM ${src.sql} WHERE key = 'link' AND t >= ? AND t < ? GROUP BY day ORDER BY day`,
      )
      .all(...src.args, fromWall, toWall) as Array<{ day: number; good: number; down: number }>;
  }

  /** The link's down time per WIB weekday (0 = Monday) and hour in [fromWall, toWall). */
  weekHours(
    fromWall: number,
    toWall: number,
    nowWall: number,
  ): Array<{ wd: number; hr: number; down: number }> {
    const src = this.hours(nowWall);
    // 1 January 1970 (day 0) was a Thursday: index 3 when Monday is 0.
    return this.db()
      .prepare(
        `SELECT (((t + ${WIB_OFFSET_MS}) / ${DAY_MS}) + 3) % 7 AS wd, ((t + ${WIB_OFFSET_MS}) / ${HOUR_MS}) % 24 AS hr,
                SUM(down_ms) AS down
         FROM ${src.sql} WHERE key = 'link' AND t >= ? AND t < ? GROUP BY wd, hr`,
      )
      .all(...src.args, fromWall, toWall) as Array<{ wd: number; hr: number; down: number }>;
  }

  /** Outages overlapping [fromWall, nowWall]; an open one ends now. */
  outages(fromWall: number, nowWall: number): OutageSpan[] {
    const rows = this.db()
      .prepare(
        `SELECT start_wall, end_wall, fault_layer, clock_synced FROM uplink_outages
         WHERE coalesce(end_wall, ?) >= ? AND start_wall <= ? ORDER BY start_wall`,
      )
      .all(nowWall, fromWall, nowWall) as Array<{
      start_wall: number;
      end_wall: number | null;
      fault_layer: string | null;
      clock_synced: number;
    }>;
    return rows.map((r) => ({
      start: r.start_wall,
      end: r.end_wall ?? nowWall,
      fault_layer: r.fault_layer,
      clock_synced: r.clock_synced === 1,
      ongoing: r.end_wall === null,
    }));
  }

  /**
   * Periods the probes ran with the wall clock unsynced (times shown there may be wrong), from
   * the raw batches: kept 48 h, so older unsynced time shows only as a flag on outages.
   */
  unsynced(fromWall: number): Span[] {
    const rows = this.db()
      .prepare(
        `SELECT start_wall AS start, end_wall AS end FROM uplink_raw
         WHERE clock_synced = 0 AND end_wall >= ? ORDER BY start_wall`,
      )
      .all(fromWall) as Span[];
    const out: Span[] = [];
    for (const r of rows) {
      const last = out[out.length - 1];
      // Several probes flush side by side: batches less than two minutes apart are one period.
      if (last && r.start <= last.end + 2 * MINUTE_MS) last.end = Math.max(last.end, r.end);
      else out.push({ start: Math.max(r.start, fromWall), end: r.end });
    }
    return out;
  }
}
