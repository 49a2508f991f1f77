import type { Database } from 'better-sqlite3';
import type { Clock } from '../core/clock.js';
import type { DeviceState } from '../status/types.js';

export interface StateChange {
  device_id: string;
  state: DeviceState;
  reason: string | null;
  at_wall: number;
}

/** The device state-change log: every change with its reason; availability is computed from it. */
export class ChangesRepo {
  private readonly db: () => Database;
  private readonly clock: Clock;

  constructor(deps: { db: () => Database; clock: Clock }) {
    this.db = deps.db;
    this.clock = deps.clock;
  }

  /** Appends changes stamped now (one call per transaction; caller batches). */
  add(
    changes: ReadonlyArray<{ deviceId: string; state: DeviceState; reason: string | null }>,
    wall?: number,
  ): void {
    const c = this.clock;
    const stmt = this.db().prepare(
      `INSERT INTO device_changes (device_id, state, reason, at_wall, at_mono, kernel_boot, clock_synced)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
    const at = wall ?? c.wallMs();
    const mono = c.monoMs();
    for (const ch of changes)
      stmt.run(ch.deviceId, ch.state, ch.reason, at, mono, c.kernelBootId, c.synced() ? 1 : 0);
  }

  /** The change in force at fromWall (if any) followed by every change up to toWall, oldest first. */
  window(deviceId: string, fromWall: number, toWall: number): StateChange[] {
    const db = this.db();
    const before = db
      .prepare(
        `SELECT device_id, state, reason, at_wall FROM device_changes
         WHERE device_id = ? AND at_wall < ? ORDER BY at_wall DESC, id DESC LIMIT 1`,
      )
      .get(deviceId, fromWall) as StateChange | undefined;
    const inside = db
      .prepare(
        `SELECT device_id, state, reason, at_wall FROM device_changes
         WHERE device_id = ? AND at_wall >= ? AND at_wall < ? ORDER BY at_wall, id`,
      )
      .all(deviceId, fromWall, toWall) as StateChange[];
    return before ? [before, ...inside] : inside;
  }

  recent(deviceId: string, limit: number): StateChange[] {
    return this.db()
      .prepare(
        `SELECT device_id, state, reason, at_wall FROM device_changes WHERE device_id = ?
         ORDER BY at_wall DESC, id DESC LIMIT ?`,
      )
      .all(deviceId, limit) as StateChange[];
  }

  prune(beforeWall: number): number {
    return this.db().prepare('DELETE FROM device_changes WHERE at_wall < ?').run(beforeWall).changes;
  }
}

/** State-change stamps made while the clock was unsynced are repaired once it syncs. */
export const CHANGES_RESTAMP = {
  table: 'device_changes',
  wall: 'at_wall',
  mono: 'at_mono',
  boot: 'kernel_boot',
  synced: 'clock_synced',
} as const;
