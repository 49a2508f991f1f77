import type { Migration } from './types.js';

/**
 * What the page's charts need that nothing kept before: every throughput test result (one
 * row per scheduled test, a few a day at most) and the box's health as one row per hour
 * (temperature, memory, disk, undervoltage/throttling seen), so a week of sparklines costs
 * 168 small rows and 24 writes a day instead of one row per reading.
 */
export const m008Charts: Migration = {
  version: 8,
  name: 'charts',
  up(db) {
    db.exec(`
      CREATE TABLE uplink_throughput (
        at_wall INTEGER NOT NULL,
        bytes INTEGER NOT NULL,
        mbps REAL NOT NULL,
        error TEXT
      );
      CREATE INDEX uplink_throughput_at ON uplink_throughput (at_wall);
      CREATE TABLE system_health_hour (
        t INTEGER PRIMARY KEY,
        n INTEGER NOT NULL,
        temp_sum REAL NOT NULL DEFAULT 0,
        temp_n INTEGER NOT NULL DEFAULT 0,
        temp_max REAL,
        mem_max REAL,
        disk_max REAL,
        undervoltage_n INTEGER NOT NULL DEFAULT 0,
        throttled_n INTEGER NOT NULL DEFAULT 0
      ) WITHOUT ROWID;
    `);
  },
};
