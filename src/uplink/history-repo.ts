import type { Database, Statement } from 'better-sqlite3';
import { decodeRounds, encodeRounds, type RawRound } from './raw-codec.js';
import { HOUR_MS, type RollupRow } from './rollup.js';

/** Raw rounds of one probe over one flush period: [ms offset, outcome, latency], plus fields by index. */
export interface RawBatch {
  probe: string;
  layer: string;
  start_wall: number;
  end_wall: number;
  clock_synced: boolean;
  rounds: RawRound[];
  /** Fields of the rounds that say more than "ok" (index → fields). */
  extra: Record<number, Record<string, unknown>>;
}

export type Resolution = 'minute' | 'hour';

const COLS = 'n, ok, sent, lost, rtt_sum, rtt_n, rtt_max, up_ms, degraded_ms, down_ms, unknown_ms';
const RETENTION_MS = {
  uplink_raw: 48 * HOUR_MS,
  uplink_minute: 30 * 24 * HOUR_MS,
  uplink_hour: 400 * 24 * HOUR_MS,
};
export type HistoryTable = keyof typeof RETENTION_MS;

/** Raw rounds (48 h), 1-minute rollups (30 d), hourly rollups (400 d). Derived data: batch(). */
export class HistoryRepo {
  private readonly db: () => Database;
  private readonly stmts = new Map<string, Statement>();

  constructor(deps: { db: () => Database }) {
    this.db = deps.db;
  }

  private stmt(sql: string): Statement {
    let s = this.stmts.get(sql);
    if (!s || s.database !== this.db()) {
      s = this.db().prepare(sql);
      this.stmts.set(sql, s);
    }
    return s;
  }

  insertRaw(batches: readonly RawBatch[]): void {
    const ins = this.stmt(
      `INSERT INTO uplink_raw (probe, layer, start_wall, end_wall, clock_synced, n, rounds, extra)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    for (const b of batches) {
      if (b.rounds.length === 0) continue;
      const extra = Object.keys(b.extra).length > 0 ? JSON.stringify(b.extra) : null;
      const synced = b.clock_synced ? 1 : 0;
      ins.run(
        b.probe,
        b.layer,
        b.start_wall,
        b.end_wall,
        synced,
        b.rounds.length,
        encodeRounds(b.rounds),
        extra,
      );
    }
  }

  /** Raw rounds since `fromWall`, unpacked (diagnostics and charts of the last 48 h). */
  raw(fromWall: number, probe?: string): RawBatch[] {
    const where = probe === undefined ? 'start_wall >= ?' : 'start_wall >= ? AND probe = ?';
    const args: Array<string | number> = probe === undefined ? [fromWall] : [fromWall, probe];
    const rows = this.stmt(
      `SELECT probe, layer, start_wall, end_wall, clock_synced, rounds, extra FROM uplink_raw
       WHERE ${where} ORDER BY start_wall`,
    ).all(...args) as Array<{
      probe: string;
      layer: string;
      start_wall: number;
      end_wall: number;
      clock_synced: number;
      rounds: Buffer;
      extra: string | null;
    }>;
    return rows.map((r) => ({
      probe: r.probe,
      layer: r.layer,
      start_wall: r.start_wall,
      end_wall: r.end_wall,
      clock_synced: r.clock_synced === 1,
      rounds: decodeRounds(r.rounds),
      extra: r.extra ? (JSON.parse(r.extra) as RawBatch['extra']) : {},
    }));
  }

  /** Adds to existing minute rows: a minute flushed at stop and continued after restart adds up. */
  addMinutes(rows: readonly RollupRow[]): void {
    const up = this.stmt(
      `INSERT INTO uplink_minute (t, key, ${COLS}) VALUES (@t, @key, @n, @ok, @sent, @lost, @rtt_sum, @rtt_n, @rtt_max, @up_ms, @degraded_ms, @down_ms, @unknown_ms)
       ON CONFLICT (t, key) DO UPDATE SET n = n + excluded.n, ok = ok + excluded.ok, sent = sent + excluded.sent,
         lost = lost + excluded.lost, rtt_sum = rtt_sum + excluded.rtt_sum, rtt_n = rtt_n + excluded.rtt_n,
         rtt_max = max(coalesce(rtt_max, excluded.rtt_max), coalesce(excluded.rtt_max, rtt_max)),
         up_ms = up_ms + excluded.up_ms, degraded_ms = degraded_ms + excluded.degraded_ms,
         down_ms = down_ms + excluded.down_ms, unknown_ms = unknown_ms + excluded.unknown_ms`,
    );
    for (const r of rows) up.run(r);
  }

  /** (Re)computes the hours in [fromWall, toWall) from their minutes: idempotent, so safe after a crash. */
  rollupHours(fromWall: number, toWall: number): void {
    this.stmt(
      `INSERT INTO uplink_hour (t, key, ${COLS})
       SELECT (t / ${HOUR_MS}) * ${HOUR_MS} AS h, key, SUM(n), SUM(ok), SUM(sent), SUM(lost), SUM(rtt_sum), SUM(rtt_n),
              MAX(rtt_max), SUM(up_ms), SUM(degraded_ms), SUM(down_ms), SUM(unknown_ms)
       FROM uplink_minute WHERE t >= ? AND t < ? GROUP BY h, key
       ON CONFLICT (t, key) DO UPDATE SET n = excluded.n, ok = excluded.ok, sent = excluded.sent, lost = excluded.lost,
         rtt_sum = excluded.rtt_sum, rtt_n = excluded.rtt_n, rtt_max = excluded.rtt_max, up_ms = excluded.up_ms,
         degraded_ms = excluded.degraded_ms, down_ms = excluded.down_ms, unknown_ms = excluded.unknown_ms`,
    ).run(Math.floor(fromWall / HOUR_MS) * HOUR_MS, toWall);
  }

  /**
   * Deletes at most `limit` expired rows of one table and returns how many went: called in
   * small slices from a scheduled task, so pruning never holds the database for long.
   */
  pruneSlice(table: HistoryTable, nowWall: number, limit: number): number {
    const col = table === 'uplink_raw' ? 'start_wall' : 't';
    const key = table === 'uplink_raw' ? 'rowid' : '(t, key)';
    const inner = table === 'uplink_raw' ? 'rowid' : 't, key';
    const r = this.stmt(
      `DELETE FROM ${table} WHERE ${key} IN (SELECT ${inner} FROM ${table} WHERE ${col} < ? ORDER BY ${col} LIMIT ?)`,
    ).run(nowWall - RETENTION_MS[table], limit);
    return r.changes;
  }

  series(resolution: Resolution, fromWall: number, key?: string): RollupRow[] {
    const table = resolution === 'minute' ? 'uplink_minute' : 'uplink_hour';
    const where = key === undefined ? 't >= ?' : 't >= ? AND key = ?';
    const args: Array<string | number> = key === undefined ? [fromWall] : [fromWall, key];
    return this.stmt(`SELECT t, key, ${COLS} FROM ${table} WHERE ${where} ORDER BY t, key`).all(
      ...args,
    ) as RollupRow[];
  }

  /** Share of measured time each key (`layer:<name>`, `link`) was up or degraded, from hourly rollups. */
  uptime(fromWall: number, toWall: number): Record<string, { up_pct: number | null; measured_ms: number }> {
    const rows = this.stmt(
      `SELECT key, SUM(up_ms + degraded_ms) AS good, SUM(up_ms + degraded_ms + down_ms) AS measured
       FROM uplink_hour WHERE t >= ? AND t < ? AND (key = 'link' OR key LIKE 'layer:%') GROUP BY key`,
    ).all(fromWall, toWall) as Array<{ key: string; good: number; measured: number }>;
    return Object.fromEntries(
      rows.map((r) => [
        r.key,
        {
          up_pct: r.measured > 0 ? Math.round((r.good / r.measured) * 100_000) / 1000 : null,
          measured_ms: r.measured,
        },
      ]),
    );
  }

  lastRawWall(): number | null {
    const r = this.stmt('SELECT MAX(end_wall) AS w FROM uplink_raw').get() as { w: number | null };
    return r.w;
  }
}
