import type { Database } from 'better-sqlite3';

/**
 * One schema change. Migrations are append-only with increasing version numbers (one block
 * per module: 2 uplink, 3 devices, 4 report, 5 system, 6 cache, 7 web; a module's later
 * changes take the next free number); `PRAGMA user_version` holds the last one applied.
 */
export interface Migration {
  version: number;
  name: string;
  up(db: Database): void;
}
