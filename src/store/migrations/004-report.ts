import type { Migration } from './types.js';

/**
 * The MQTT outbox. `id` is AUTOINCREMENT so a row id is never reused even after the table
 * empties (the publisher's cursor relies on ids only growing). `seq` is the envelope's
 * sequence number, allocated from report_counters in the same transaction as the insert.
 * report_counters also holds the per-class drop counts, so they survive restarts.
 */
export const m004Report: Migration = {
  version: 4,
  name: 'report',
  up(db) {
    db.exec(`
      CREATE TABLE outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        seq INTEGER NOT NULL UNIQUE,
        msg_id TEXT NOT NULL,
        class TEXT NOT NULL CHECK (class IN ('health', 'usage', 'event', 'outage')),
        topic TEXT NOT NULL,
        payload TEXT NOT NULL,
        bytes INTEGER NOT NULL,
        created_wall INTEGER NOT NULL
      );
      CREATE INDEX outbox_class ON outbox (class, id);
      CREATE TABLE report_counters (
        key TEXT PRIMARY KEY,
        value INTEGER NOT NULL
      ) WITHOUT ROWID;
      INSERT INTO report_counters (key, value) VALUES ('seq', 0);
    `);
  },
};
