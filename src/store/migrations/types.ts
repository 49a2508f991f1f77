import type { Database } from 'better-sqlite3';

/**
 * One schema change. Migrations are append-only and numbered from 1 without gaps;
 * `PRAGMA user_version` holds the number of the last one applied.
 */
export interface Migration {
  version: number;
  name: string;
  up(db: Database): void;
}
