import type { Migration } from './types.js';

/**
 * The outbox row id becomes the envelope's seq. An insert then writes three pages (the table
 * leaf, the unsent index and the AUTOINCREMENT counter) instead of six: the separate seq
 * counter in report_counters, the UNIQUE index on seq and the (class, id) index are gone. At
 * the live rate — a health message a minute — that is most of the box's idle writes to its SD
 * card (SPEC: ≤ 25 MB a day). `seq` stays readable as a generated column; the counter carries
 * on from the old one (never back: the regency would read a reused seq as a power cut).
 * Shedding by class walks the unsent index instead of its own; it only runs when the outbox
 * is full.
 */
export const m010OutboxSeqId: Migration = {
  version: 10,
  name: 'outbox-seq-id',
  up(db) {
    db.exec(`
      CREATE TABLE outbox_next (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        msg_id TEXT NOT NULL,
        class TEXT NOT NULL CHECK (class IN ('health', 'usage', 'event', 'outage')),
        topic TEXT NOT NULL,
        payload TEXT NOT NULL,
        bytes INTEGER NOT NULL,
        created_wall INTEGER NOT NULL,
        sent_wall INTEGER,
        seq INTEGER GENERATED ALWAYS AS (id) VIRTUAL
      );
      INSERT INTO outbox_next (id, msg_id, class, topic, payload, bytes, created_wall, sent_wall)
        SELECT seq, msg_id, class, topic, payload, bytes, created_wall, sent_wall FROM outbox;
      DROP TABLE outbox;
      ALTER TABLE outbox_next RENAME TO outbox;
      CREATE INDEX outbox_unsent ON outbox (id) WHERE sent_wall IS NULL;
      DELETE FROM sqlite_sequence WHERE name IN ('outbox', 'outbox_next');
      INSERT INTO sqlite_sequence (name, seq) VALUES ('outbox', MAX(
        COALESCE((SELECT value FROM report_counters WHERE key = 'seq'), 0),
        COALESCE((SELECT MAX(id) FROM outbox), 0)));
      DELETE FROM report_counters WHERE key = 'seq';
    `);
  },
};
