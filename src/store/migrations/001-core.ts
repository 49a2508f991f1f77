import type { Migration } from './types.js';

/** Daemon runs (for unclean-shutdown detection), alerts, and the current-state snapshot. */
export const m001Core: Migration = {
  version: 1,
  name: 'core',
  up(db) {
    db.exec(`
      CREATE TABLE runs (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        run_id TEXT NOT NULL UNIQUE,
        version TEXT NOT NULL,
        kernel_boot TEXT NOT NULL,
        started_wall INTEGER NOT NULL,
        started_mono INTEGER NOT NULL,
        clock_synced INTEGER NOT NULL,
        alive_wall INTEGER NOT NULL,
        alive_mono INTEGER NOT NULL,
        stopped_wall INTEGER
      );
      CREATE TABLE alerts (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at_wall INTEGER NOT NULL,
        at_mono INTEGER NOT NULL,
        kernel_boot TEXT NOT NULL,
        clock_synced INTEGER NOT NULL,
        code TEXT NOT NULL,
        severity TEXT NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
        message TEXT NOT NULL,
        details TEXT
      );
      CREATE INDEX alerts_at ON alerts (at_wall);
      CREATE TABLE current_state (
        key TEXT PRIMARY KEY,
        json TEXT NOT NULL,
        updated_wall INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE TABLE meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
      ) WITHOUT ROWID;
    `);
  },
};
