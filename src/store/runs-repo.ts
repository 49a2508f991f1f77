import type { Database } from 'better-sqlite3';
import type { Clock } from '../core/clock.js';

export interface RunRecord {
  run_id: string;
  version: string;
  kernel_boot: string;
  started_wall: number;
  started_mono: number;
  clock_synced: boolean;
  alive_wall: number;
  alive_mono: number;
  stopped_wall: number | null;
}

/**
 * One row per daemon start. `alive_*` is refreshed by the watchdog loop, so after a power
 * cut the next start knows roughly when the box died and that it did not stop cleanly.
 */
export class RunsRepo {
  private readonly db: () => Database;
  private readonly clock: Clock;

  constructor(deps: { db: () => Database; clock: Clock }) {
    this.db = deps.db;
    this.clock = deps.clock;
  }

  /** The previous run, if it never recorded a clean stop. */
  lastUnclean(): RunRecord | undefined {
    const row = this.db().prepare('SELECT * FROM runs ORDER BY seq DESC LIMIT 1').get() as RawRun | undefined;
    return row && row.stopped_wall === null ? toRecord(row) : undefined;
  }

  latest(): RunRecord | undefined {
    const row = this.db().prepare('SELECT * FROM runs ORDER BY seq DESC LIMIT 1').get() as RawRun | undefined;
    return row ? toRecord(row) : undefined;
  }

  begin(runId: string, version: string): RunRecord {
    const c = this.clock;
    const wall = c.wallMs();
    const mono = c.monoMs();
    this.db()
      .prepare(
        `INSERT INTO runs (run_id, version, kernel_boot, started_wall, started_mono, clock_synced, alive_wall, alive_mono)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(runId, version, c.kernelBootId, wall, mono, c.synced() ? 1 : 0, wall, mono);
    // Keep the table bounded: a box restarting every few minutes for a year stays small.
    this.db().prepare('DELETE FROM runs WHERE seq <= (SELECT MAX(seq) FROM runs) - 1000').run();
    return this.latest()!;
  }

  alive(runId: string): void {
    this.db()
      .prepare('UPDATE runs SET alive_wall = ?, alive_mono = ? WHERE run_id = ?')
      .run(this.clock.wallMs(), this.clock.monoMs(), runId);
  }

  end(runId: string): void {
    this.db().prepare('UPDATE runs SET stopped_wall = ? WHERE run_id = ?').run(this.clock.wallMs(), runId);
  }
}

interface RawRun extends Omit<RunRecord, 'clock_synced'> {
  clock_synced: number;
}

function toRecord(r: RawRun): RunRecord {
  return { ...r, clock_synced: r.clock_synced === 1 };
}
