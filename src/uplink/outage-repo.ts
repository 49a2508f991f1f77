import type { Database } from 'better-sqlite3';
import type { Clock } from '../core/clock.js';
import type { EndedOutage, Instant } from './outage.js';

export interface OutageRecord {
  id: number;
  start: string;
  end: string | null;
  duration_s: number | null;
  fault_layer: string | null;
  loss_pct_before: number | null;
  rtt_ms_before: number | null;
  clock_synced: boolean;
  /** The daemon stopped (or lost power) during the outage: its end is the last thing we saw. */
  interrupted: boolean;
}

interface Row {
  id: number;
  start_wall: number;
  end_wall: number | null;
  duration_ms: number | null;
  fault_layer: string | null;
  loss_pct_before: number | null;
  rtt_ms_before: number | null;
  clock_synced: number;
  interrupted: number;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** The outage ledger: one row per outage, opened when the link goes down, closed when it is back. */
export class OutageRepo {
  private readonly db: () => Database;
  private readonly clock: Clock;

  constructor(deps: { db: () => Database; clock: Clock }) {
    this.db = deps.db;
    this.clock = deps.clock;
  }

  open(
    start: Instant,
    faultLayer: string | null,
    lossBefore: number | null,
    rttBefore: number | null,
  ): number {
    const r = this.db()
      .prepare(
        `INSERT INTO uplink_outages (start_wall, start_mono, kernel_boot, clock_synced, fault_layer, loss_pct_before, rtt_ms_before)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        start.wall,
        start.mono,
        this.clock.kernelBootId,
        this.clock.synced() ? 1 : 0,
        faultLayer,
        lossBefore,
        rttBefore,
      );
    return Number(r.lastInsertRowid);
  }

  close(id: number, o: EndedOutage): void {
    this.db()
      .prepare(
        `UPDATE uplink_outages SET end_wall = ?, end_mono = ?, duration_ms = ?, fault_layer = ?, clock_synced = ?
         WHERE id = ?`,
      )
      .run(o.end.wall, o.end.mono, o.duration_ms, o.fault_layer, this.clock.synced() ? 1 : 0, id);
  }

  /**
   * Closes outages left open by a previous run (kill -9, power cut) at the last moment that
   * run recorded anything; the duration comes from the monotonic clock when the kernel is
   * the same, else from the wall clock.
   */
  closeInterrupted(
    lastSeenWall: number | null,
  ): Array<{ start_wall: number; end_wall: number; duration_ms: number; fault_layer: string | null }> {
    const open = this.db()
      .prepare('SELECT id, start_wall, fault_layer FROM uplink_outages WHERE end_wall IS NULL')
      .all() as Array<{ id: number; start_wall: number; fault_layer: string | null }>;
    const upd = this.db().prepare(
      'UPDATE uplink_outages SET end_wall = ?, duration_ms = ?, interrupted = 1 WHERE id = ?',
    );
    return open.map((o) => {
      const end = Math.max(o.start_wall, lastSeenWall ?? o.start_wall);
      upd.run(end, end - o.start_wall, o.id);
      return {
        start_wall: o.start_wall,
        end_wall: end,
        duration_ms: end - o.start_wall,
        fault_layer: o.fault_layer,
      };
    });
  }

  list(limit = 100, beforeId?: number): OutageRecord[] {
    const rows = this.db()
      .prepare(
        `SELECT id, start_wall, end_wall, duration_ms, fault_layer, loss_pct_before, rtt_ms_before, clock_synced, interrupted
         FROM uplink_outages WHERE id < ? ORDER BY id DESC LIMIT ?`,
      )
      .all(beforeId ?? Number.MAX_SAFE_INTEGER, limit) as Row[];
    return rows.map((r) => ({
      id: r.id,
      start: iso(r.start_wall)!,
      end: iso(r.end_wall),
      duration_s: r.duration_ms === null ? null : Math.round(r.duration_ms / 100) / 10,
      fault_layer: r.fault_layer,
      loss_pct_before: r.loss_pct_before,
      rtt_ms_before: r.rtt_ms_before,
      clock_synced: r.clock_synced === 1,
      interrupted: r.interrupted === 1,
    }));
  }
}

/** Outage start/end stamps made while the clock was unsynced are repaired once it syncs. */
export const OUTAGES_RESTAMP = {
  table: 'uplink_outages',
  wall: 'start_wall',
  mono: 'start_mono',
  boot: 'kernel_boot',
  synced: 'clock_synced',
  also: [{ wall: 'end_wall', mono: 'end_mono' }],
};
