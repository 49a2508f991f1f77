import type { Database } from 'better-sqlite3';
import type { Clock } from '../core/clock.js';

/**
 * A table whose rows carry a wall stamp plus the monotonic time and kernel boot id they were
 * made at, and whether the clock was synced. Modules register theirs (alerts, runs, samples).
 */
export interface RestampTarget {
  table: string;
  wall: string;
  mono: string;
  boot: string;
  synced: string;
  /** Optional column set to 1 on re-stamped rows, so the page can say "time corrected". */
  restamped?: string;
}

const IDENT = /^[a-z_][a-z0-9_]*$/;

/**
 * Repairs the wall stamps of rows written while the clock was unsynced, once it is synced:
 * for rows from this kernel boot, wall = now_wall − (now_mono − row_mono). Rows from an
 * earlier boot cannot be repaired (monotonic time restarted) and keep their flag.
 */
export class Restamper {
  private readonly db: () => Database;
  private readonly clock: Clock;
  private readonly targets: RestampTarget[] = [];

  constructor(deps: { db: () => Database; clock: Clock }) {
    this.db = deps.db;
    this.clock = deps.clock;
  }

  register(target: RestampTarget): void {
    for (const v of Object.values(target)) {
      if (!IDENT.test(v)) throw new Error(`bad identifier in restamp target: ${v}`);
    }
    this.targets.push(target);
  }

  /** Call only while the clock is synced. Returns rows re-stamped per table. */
  run(): Record<string, number> {
    const nowWall = this.clock.wallMs();
    const nowMono = this.clock.monoMs();
    const boot = this.clock.kernelBootId;
    const out: Record<string, number> = {};
    const db = this.db();
    db.transaction(() => {
      for (const t of this.targets) {
        const mark = t.restamped ? `, ${t.restamped} = 1` : '';
        const r = db
          .prepare(
            `UPDATE ${t.table} SET ${t.wall} = ? - (? - ${t.mono}), ${t.synced} = 1${mark}
             WHERE ${t.boot} = ? AND ${t.synced} = 0 AND ${t.mono} <= ?`,
          )
          .run(nowWall, nowMono, boot, nowMono);
        out[t.table] = r.changes;
      }
    }).immediate();
    return out;
  }
}

export const ALERTS_RESTAMP: RestampTarget = {
  table: 'alerts',
  wall: 'at_wall',
  mono: 'at_mono',
  boot: 'kernel_boot',
  synced: 'clock_synced',
  restamped: 'restamped',
};
