import type { Database } from 'better-sqlite3';
import type { HealthReading } from './health-collector.js';

const HOUR_MS = 3_600_000;
/** A week of sparklines plus the day being read: older hours go when a new one is written. */
const KEEP_MS = 8 * 24 * HOUR_MS;

/** One hour of health readings, summed so that two parts of the same hour add up. */
export interface HealthHour {
  t: number;
  n: number;
  temp_sum: number;
  temp_n: number;
  temp_max: number | null;
  mem_max: number | null;
  disk_max: number | null;
  /** Readings that saw undervoltage / any throttling right then. */
  undervoltage_n: number;
  throttled_n: number;
}

const max = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : Math.max(a, b));

/**
 * Folds readings into the running hour in memory and hands back an hour once it is over: the
 * box's health over a week costs one row per hour (24 small writes a day), not one per reading.
 */
export class HealthHours {
  private current: HealthHour | null = null;

  /** Adds a reading taken at `wall`; returns the previous hour when this one starts a new hour. */
  add(wall: number, r: HealthReading): HealthHour | null {
    const t = Math.floor(wall / HOUR_MS) * HOUR_MS;
    const done = this.current && this.current.t !== t ? this.current : null;
    if (!this.current || done)
      this.current = {
        t,
        n: 0,
        temp_sum: 0,
        temp_n: 0,
        temp_max: null,
        mem_max: null,
        disk_max: null,
        undervoltage_n: 0,
        throttled_n: 0,
      };
    const c = this.current;
    c.n++;
    if (r.temperature_c !== null) {
      c.temp_sum += r.temperature_c;
      c.temp_n++;
    }
    c.temp_max = max(c.temp_max, r.temperature_c);
    c.mem_max = max(c.mem_max, r.memory_used_pct);
    c.disk_max = max(c.disk_max, r.disk_used_pct);
    if (r.undervoltage_now) c.undervoltage_n++;
    if (r.throttled) c.throttled_n++;
    return done;
  }

  /** The running hour so far, not yet written (the charts' last point). */
  peek(): HealthHour | null {
    return this.current;
  }

  /** The running hour so far (written at stop; the next run adds to it). */
  take(): HealthHour | null {
    const c = this.current;
    this.current = null;
    return c && c.n > 0 ? c : null;
  }
}

/** `system_health_hour`: one row per hour, kept eight days. */
export class HealthHourRepo {
  private readonly db: () => Database;

  constructor(deps: { db: () => Database }) {
    this.db = deps.db;
  }

  add(h: HealthHour): void {
    const db = this.db();
    db.prepare(
      `INSERT INTO system_health_hour (t, n, temp_sum, temp_n, temp_max, mem_max, disk_max, undervoltage_n, throttled_n)
       VALUES (@t, @n, @temp_sum, @temp_n, @temp_max, @mem_max, @disk_max, @undervoltage_n, @throttled_n)
       ON CONFLICT (t) DO UPDATE SET n = n + excluded.n, temp_sum = temp_sum + excluded.temp_sum,
         temp_n = temp_n + excluded.temp_n,
         temp_max = max(coalesce(temp_max, excluded.temp_max), coalesce(excluded.temp_max, temp_max)),
         mem_max = max(coalesce(mem_max, excluded.mem_max), coalesce(excluded.mem_max, mem_max)),
         disk_max = max(coalesce(disk_max, excluded.disk_max), coalesce(excluded.disk_max, disk_max)),
         undervoltage_n = undervoltage_n + excluded.undervoltage_n, throttled_n = throttled_n + excluded.throttled_n`,
    ).run(h);
    db.prepare('DELETE FROM system_health_hour WHERE t < ?').run(h.t - KEEP_MS);
  }

  since(fromWall: number): HealthHour[] {
    return this.db()
      .prepare('SELECT * FROM system_health_hour WHERE t >= ? ORDER BY t')
      .all(fromWall) as HealthHour[];
  }
}
