import type { Database, Statement } from 'better-sqlite3';
import type { UsageEvent } from './push-schemas.js';

const HOUR_MS = 3600_000;
/** Kiosk stamps before this are a kiosk clock that lost its time (no RTC either). */
const EARLIEST_AT = Date.UTC(2020, 0, 1);

/**
 * The kiosk's `at` when believable, else null (the receive time is used instead). Old stamps
 * are fine (a kiosk may deliver a backlog days later); stamps from before 2020, or more than
 * an hour ahead of a synced gateway clock, are not.
 */
function plausibleAt(at: string | undefined, stamp: ReceiveStamp): number | null {
  if (at === undefined) return null;
  const t = Date.parse(at);
  if (!Number.isFinite(t) || t < EARLIEST_AT) return null;
  if (stamp.synced && t > stamp.wall + HOUR_MS) return null;
  return t;
}

/** Where and when the gateway received a batch: kept with every event. */
export interface ReceiveStamp {
  wall: number;
  mono: number;
  kernelBoot: string;
  runId: string;
  synced: boolean;
}

/** What other modules see of a stored event (the MQTT `usage` payload): no personal data. */
export type StoredUsageEvent = {
  id: string;
  service: string;
  at: string;
  outcome: string | null;
  duration_ms: number | null;
  received_at: string;
  clock_synced: boolean;
};

export interface UsageCount {
  device_id: string;
  service: string;
  /** Bucket start, ISO UTC. */
  start: string;
  count: number;
}

export type UsageBucket = 'hour' | 'day' | 'month';

/**
 * usage_events (one row per kiosk UUID, INSERT OR IGNORE: a retry is counted as a
 * duplicate, never stored twice) and usage_hourly (counts per device × service × hour).
 * Callers wrap insert() in Store.durable(); both tables change in that one transaction.
 */
export class UsageRepo {
  private readonly db: () => Database;
  private cached: { db: Database; insert: Statement; hourly: Statement } | undefined;

  constructor(deps: { db: () => Database }) {
    this.db = deps.db;
  }

  insert(deviceId: string, events: readonly UsageEvent[], stamp: ReceiveStamp) {
    const { insert, hourly } = this.statements();
    const stored: StoredUsageEvent[] = [];
    // service → hour → count: one upsert per key instead of one per event.
    const perHour = new Map<string, Map<number, number>>();
    let duplicates = 0;
    const synced = stamp.synced ? 1 : 0;
    for (const e of events) {
      const atWall = plausibleAt(e.at, stamp);
      const r = insert.run(
        e.id.toLowerCase(),
        deviceId,
        e.service,
        e.outcome ?? null,
        e.duration_ms ?? null,
        atWall,
        stamp.wall,
        stamp.mono,
        stamp.kernelBoot,
        stamp.runId,
        synced,
      );
      if (r.changes === 0) {
        duplicates++;
        continue;
      }
      const when = atWall ?? stamp.wall;
      const hour = Math.floor(when / HOUR_MS) * HOUR_MS;
      const hours = perHour.get(e.service) ?? new Map<number, number>();
      hours.set(hour, (hours.get(hour) ?? 0) + 1);
      perHour.set(e.service, hours);
      stored.push({
        id: e.id.toLowerCase(),
        service: e.service,
        at: new Date(when).toISOString(),
        outcome: e.outcome ?? null,
        duration_ms: e.duration_ms ?? null,
        received_at: new Date(stamp.wall).toISOString(),
        clock_synced: stamp.synced,
      });
    }
    for (const [service, hours] of perHour) {
      for (const [hour, n] of hours) hourly.run(deviceId, service, hour, n);
    }
    return { stored, duplicates };
  }

  countIds(ids: readonly string[]): number {
    const stmt = this.db().prepare('SELECT 1 FROM usage_events WHERE id = ?');
    let n = 0;
    for (const id of ids) if (stmt.get(id.toLowerCase())) n++;
    return n;
  }

  total(): number {
    return (this.db().prepare('SELECT count(*) AS n FROM usage_events').get() as { n: number }).n;
  }

  /** Counts per device × service in [fromMs, toMs), grouped by hour, UTC day or UTC month. */
  counts(fromMs: number, toMs: number, bucket: UsageBucket, limit = 10_000): UsageCount[] {
    const size =
      bucket === 'hour' ? 'hour_wall' : bucket === 'day' ? '(hour_wall / 86400000) * 86400000' : null;
    const key =
      size ??
      "CAST(strftime('%s', datetime(hour_wall / 1000, 'unixepoch', 'start of month')) AS INTEGER) * 1000";
    const rows = this.db()
      .prepare(
        `SELECT device_id, service, ${key} AS start, sum(count) AS count FROM usage_hourly
         WHERE hour_wall >= ? AND hour_wall < ? GROUP BY 1, 2, 3 ORDER BY 3, 1, 2 LIMIT ?`,
      )
      .all(fromMs, toMs, limit) as Array<{
      device_id: string;
      service: string;
      start: number;
      count: number;
    }>;
    return rows.map((r) => ({ ...r, start: new Date(r.start).toISOString() }));
  }

  /** Drops hourly counts older than keepMs and raw events older than keepRawMs (by receive time). */
  prune(nowWall: number, keepMs: number, keepRawMs: number): { hourly: number; raw: number } {
    const db = this.db();
    const hourly = db.prepare('DELETE FROM usage_hourly WHERE hour_wall < ?').run(nowWall - keepMs).changes;
    const raw = db.prepare('DELETE FROM usage_events WHERE recv_wall < ?').run(nowWall - keepRawMs).changes;
    return { hourly, raw };
  }

  private statements() {
    const db = this.db();
    if (this.cached?.db !== db) {
      this.cached = {
        db,
        insert: db.prepare(
          `INSERT OR IGNORE INTO usage_events (id, device_id, service, outcome, duration_ms, at_wall,
             recv_wall, recv_mono, kernel_boot, run_id, clock_synced) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        ),
        hourly: db.prepare(
          `INSERT INTO usage_hourly (device_id, service, hour_wall, count) VALUES (?, ?, ?, ?)
           ON CONFLICT (hour_wall, device_id, service) DO UPDATE SET count = count + excluded.count`,
        ),
      };
    }
    return this.cached;
  }
}

/** Receive stamps of usage events made while the clock was unsynced are repaired once it syncs. */
export const USAGE_RESTAMP = {
  table: 'usage_events',
  wall: 'recv_wall',
  mono: 'recv_mono',
  boot: 'kernel_boot',
  synced: 'clock_synced',
} as const;
