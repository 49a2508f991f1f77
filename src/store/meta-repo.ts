import type { Database } from 'better-sqlite3';

/** Small durable settings of the box itself (e.g. the one-time setup code). */
export class MetaRepo {
  private readonly db: () => Database;

  constructor(deps: { db: () => Database }) {
    this.db = deps.db;
  }

  get(key: string): string | undefined {
    const row = this.db().prepare('SELECT value FROM meta WHERE key = ?').get(key) as
      | { value: string }
      | undefined;
    return row?.value;
  }

  set(key: string, value: string): void {
    this.db()
      .prepare(
        'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      )
      .run(key, value);
  }

  delete(key: string): void {
    this.db().prepare('DELETE FROM meta WHERE key = ?').run(key);
  }
}
