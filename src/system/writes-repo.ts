import type { Database } from 'better-sqlite3';

/** The per-day ledger of bytes the daemon wrote (storage wear). */
export class WritesRepo {
  private readonly db: () => Database;

  constructor(deps: { db: () => Database }) {
    this.db = deps.db;
  }

  get(day: string): number {
    const row = this.db().prepare('SELECT write_bytes FROM system_writes WHERE day = ?').get(day) as
      | { write_bytes: number }
      | undefined;
    return row?.write_bytes ?? 0;
  }

  put(day: string, bytes: number, wallMs: number): void {
    this.db()
      .prepare(
        `INSERT INTO system_writes (day, write_bytes, updated_wall) VALUES (?, ?, ?)
         ON CONFLICT (day) DO UPDATE SET write_bytes = excluded.write_bytes, updated_wall = excluded.updated_wall`,
      )
      .run(day, bytes, wallMs);
  }

  recent(limit = 31): Array<{ day: string; write_bytes: number }> {
    return this.db()
      .prepare('SELECT day, write_bytes FROM system_writes ORDER BY day DESC LIMIT ?')
      .all(limit) as Array<{ day: string; write_bytes: number }>;
  }
}
