import type { Migration } from './types.js';

/**
 * Kiosk usage events (acknowledged data: each row was answered 202), their hourly counts,
 * and the device state-change log that availability is computed from.
 * usage_events is keyed by the kiosk's own UUID so a retried event can never be stored twice.
 */
export const m003Devices: Migration = {
  version: 3,
  name: 'devices',
  up(db) {
    db.exec(`
      CREATE TABLE usage_events (
        id TEXT PRIMARY KEY,
        device_id TEXT NOT NULL,
        service TEXT NOT NULL,
        outcome TEXT,
        duration_ms INTEGER,
        at_wall INTEGER,
        recv_wall INTEGER NOT NULL,
        recv_mono INTEGER NOT NULL,
        kernel_boot TEXT NOT NULL,
        run_id TEXT NOT NULL,
        clock_synced INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX usage_events_recv ON usage_events (recv_wall);
      CREATE TABLE usage_hourly (
        device_id TEXT NOT NULL,
        service TEXT NOT NULL,
        hour_wall INTEGER NOT NULL,
        count INTEGER NOT NULL,
        PRIMARY KEY (hour_wall, device_id, service)
      ) WITHOUT ROWID;
      CREATE TABLE device_changes (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        device_id TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('online', 'degraded', 'offline', 'unknown')),
        reason TEXT,
        at_wall INTEGER NOT NULL,
        at_mono INTEGER NOT NULL,
        kernel_boot TEXT NOT NULL,
        clock_synced INTEGER NOT NULL
      );
      CREATE INDEX device_changes_dev ON device_changes (device_id, at_wall);
    `);
  },
};
