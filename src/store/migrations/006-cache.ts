import type { Migration } from './types.js';

/**
 * Service-data cache (metadata; bodies inline or as files in data_dir/cache named by sha256)
 * and the offline write queue (outbound), delivered per upstream in seq order.
 */
export const m006Cache: Migration = {
  version: 6,
  name: 'cache',
  up(db) {
    db.exec(`
      CREATE TABLE cache_entries (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        upstream TEXT NOT NULL,
        key TEXT NOT NULL,
        vary_key TEXT NOT NULL,
        status INTEGER NOT NULL,
        headers TEXT NOT NULL,
        stored_wall INTEGER NOT NULL,
        stored_mono INTEGER NOT NULL,
        kernel_boot TEXT NOT NULL,
        initial_age_s INTEGER NOT NULL,
        data_date INTEGER NOT NULL,
        body_sha256 TEXT NOT NULL,
        body_size INTEGER NOT NULL,
        body BLOB,
        last_access INTEGER NOT NULL,
        UNIQUE (key, vary_key)
      );
      CREATE INDEX cache_entries_sha ON cache_entries (body_sha256);
      CREATE TABLE outbound (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        upstream TEXT NOT NULL,
        idem_key TEXT NOT NULL,
        device_id TEXT NOT NULL,
        method TEXT NOT NULL,
        path TEXT NOT NULL,
        headers TEXT NOT NULL,
        body BLOB,
        body_size INTEGER NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('queued', 'delivered', 'failed')),
        tries INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        created_wall INTEGER NOT NULL,
        done_wall INTEGER,
        result_status INTEGER,
        result_type TEXT,
        result_body BLOB,
        UNIQUE (upstream, idem_key)
      );
      CREATE INDEX outbound_queue ON outbound (state, upstream, seq);
    `);
  },
};
