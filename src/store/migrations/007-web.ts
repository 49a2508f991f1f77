import type { Migration } from './types.js';

/**
 * Technician accounts, server-side sessions, login throttle and the audit trail.
 * Sessions keep their token only as a SHA-256 hash; expiry uses the monotonic clock of the
 * kernel boot they were created in (a session from another boot is expired).
 */
export const m007Web: Migration = {
  version: 7,
  name: 'web',
  up(db) {
    db.exec(`
      CREATE TABLE technicians (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL UNIQUE,
        password_hash TEXT NOT NULL,
        created_wall INTEGER NOT NULL,
        updated_wall INTEGER NOT NULL
      );
      CREATE TABLE sessions (
        token_hash TEXT PRIMARY KEY,
        technician_id INTEGER NOT NULL REFERENCES technicians (id) ON DELETE CASCADE,
        kernel_boot TEXT NOT NULL,
        created_mono INTEGER NOT NULL,
        last_mono INTEGER NOT NULL,
        created_wall INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX sessions_technician ON sessions (technician_id);
      CREATE TABLE login_failures (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        key TEXT NOT NULL,
        kernel_boot TEXT NOT NULL,
        at_mono INTEGER NOT NULL
      );
      CREATE INDEX login_failures_key ON login_failures (key, at_mono);
      CREATE TABLE audit (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at_wall INTEGER NOT NULL,
        clock_synced INTEGER NOT NULL,
        actor TEXT,
        action TEXT NOT NULL,
        outcome TEXT NOT NULL,
        source TEXT,
        details TEXT
      );
      CREATE INDEX audit_at ON audit (at_wall);
    `);
  },
};
