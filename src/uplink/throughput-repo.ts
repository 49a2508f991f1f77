import type { Database } from 'better-sqlite3';
import type { ThroughputResult } from './throughput.js';

/** Newest results kept: a daily test fills this in over a year; a test run every hour in 10 days. */
const KEEP = 400;

/** Every throughput test's result, so the page can chart them over time. */
export class ThroughputRepo {
  private readonly db: () => Database;

  constructor(deps: { db: () => Database }) {
    this.db = deps.db;
  }

  add(r: ThroughputResult): void {
    const db = this.db();
    db.prepare('INSERT INTO uplink_throughput (at_wall, bytes, mbps, error) VALUES (?, ?, ?, ?)').run(
      Date.parse(r.at),
      r.bytes,
      r.mbps,
      r.error,
    );
    db.prepare(
      `DELETE FROM uplink_throughput WHERE rowid NOT IN
         (SELECT rowid FROM uplink_throughput ORDER BY at_wall DESC LIMIT ${KEEP})`,
    ).run();
  }

  /** Results at or after `fromWall`, oldest first. */
  since(fromWall: number): ThroughputResult[] {
    const rows = this.db()
      .prepare(
        'SELECT at_wall, bytes, mbps, error FROM uplink_throughput WHERE at_wall >= ? ORDER BY at_wall',
      )
      .all(fromWall) as Array<{ at_wall: number; bytes: number; mbps: number; error: string | null }>;
    return rows.map((r) => ({
      at: new Date(r.at_wall).toISOString(),
      bytes: r.bytes,
      mbps: r.mbps,
      error: r.error,
    }));
  }
}
