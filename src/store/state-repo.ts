import type { Database } from 'better-sqlite3';

/**
 * The latest value of each status section, so `kampung-gw status` can read the daemon's
 * view from the data dir whether or not the daemon runs. Derived data: NORMAL sync.
 */
export class StateRepo {
  private readonly db: () => Database;

  constructor(deps: { db: () => Database }) {
    this.db = deps.db;
  }

  put(key: string, value: unknown, wallMs: number): void {
    this.db()
      .prepare(
        `INSERT INTO current_state (key, json, updated_wall) VALUES (?, ?, ?)
         ON CONFLICT (key) DO UPDATE SET json = excluded.json, updated_wall = excluded.updated_wall`,
      )
      .run(key, JSON.stringify(value), wallMs);
  }

  get<T>(key: string): { value: T; updated_wall: number } | undefined {
    const row = this.db().prepare('SELECT json, updated_wall FROM current_state WHERE key = ?').get(key) as
      | { json: string; updated_wall: number }
      | undefined;
    return row ? { value: JSON.parse(row.json) as T, updated_wall: row.updated_wall } : undefined;
  }
}
