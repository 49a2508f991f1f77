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
  /** More wall/monotonic column pairs of the same row (e.g. a run's "alive" stamp). */
  also?: Array<{ wall: string; mono: string }>;
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
    const { also = [], ...single } = target;
    for (const v of [...Object.values(single), ...also.flatMap((p) => [p.wall, p.mono])]) {
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
        const extra = (t.also ?? []).map((p) => `, ${p.wall} = :wall - (:mono - ${p.mono})`).join('');
        const r = db
          .prepare(
            `UPDATE ${t.table} SET ${t.wall} = :wall - (:mono - ${t.mono}), ${t.synced} = 1${mark}${extra}
             WHERE ${t.boot} = :boot AND ${t.synced} = 0 AND ${t.mono} <= :mono`,
          )
          .run({ wall: nowWall, mono: nowMono, boot });
        out[t.table] = r.changes;
      }
    }).immediate();
    return out;
  }
}

/** A run's start and "alive" stamps, so `status` dates a run right once the clock syncs. */
export const RUNS_RESTAMP: RestampTarget = {
  table: 'runs',
  wall: 'started_wall',
  mono: 'started_mono',
  boot: 'kernel_boot',
  synced: 'clock_synced',
  also: [{ wall: 'alive_wall', mono: 'alive_mono' }],
};

export const ALERTS_RESTAMP: RestampTarget = {
  table: 'alerts',
  wall: 'at_wall',
  mono: 'at_mono',
  boot: 'kernel_boot',
  synced: 'clock_synced',
  restamped: 'restamped',
};
