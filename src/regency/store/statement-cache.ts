import type Database from 'better-sqlite3';
import type { SqliteDatabase, SqliteStatement } from 'kysely';

/**
 * The SQLite handle Kysely is given: the same database, with its prepared statements kept
 * (Kysely's SQLite driver prepares every statement again on every run; the collector runs the
 * same few dozen texts thousands of times). The newest `max` texts are kept; Kysely runs one
 * statement at a time on its one connection, so a kept statement is never busy when reused.
 */
export function keepStatements(sqlite: Database.Database, max = 256): SqliteDatabase {
  const kept = new Map<string, SqliteStatement>();
  return {
    close: () => {
      kept.clear();
      sqlite.close();
    },
    prepare: (sql: string) => {
      const had = kept.get(sql);
      if (had) {
        // Most recently used last: the first key is the one to drop.
        kept.delete(sql);
        kept.set(sql, had);
        return had;
      }
      const stmt = sqlite.prepare(sql);
      kept.set(sql, stmt);
      if (kept.size > max) kept.delete(kept.keys().next().value as string);
      return stmt;
    },
  };
}
