import type { Migration } from './types.js';

/**
 * Storage-wear ledger (bytes the daemon wrote per day) and the re-stamp flag on alerts:
 * rows stamped while the clock was unsynced get their wall time repaired once it syncs.
 */
export const m005System: Migration = {
  version: 5,
  name: 'system',
  up(db) {
    db.exec(`
      CREATE TABLE system_writes (
        day TEXT PRIMARY KEY,
        write_bytes INTEGER NOT NULL,
        updated_wall INTEGER NOT NULL
      ) WITHOUT ROWID;
      ALTER TABLE alerts ADD COLUMN restamped INTEGER NOT NULL DEFAULT 0;
      CREATE INDEX alerts_unsynced ON alerts (kernel_boot) WHERE clock_synced = 0;
    `);
  },
};
