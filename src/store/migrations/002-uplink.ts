import type { Migration } from './types.js';

/** Minute and hour rollups share one shape: counts, RTT sums and time per state. */
const rollupTable = (name: string) => `CREATE TABLE ${name} (
        t INTEGER NOT NULL,
        key TEXT NOT NULL,
        n INTEGER NOT NULL DEFAULT 0,
        ok INTEGER NOT NULL DEFAULT 0,
        sent INTEGER NOT NULL DEFAULT 0,
        lost INTEGER NOT NULL DEFAULT 0,
        rtt_sum REAL NOT NULL DEFAULT 0,
        rtt_n INTEGER NOT NULL DEFAULT 0,
        rtt_max REAL,
        up_ms INTEGER NOT NULL DEFAULT 0,
        degraded_ms INTEGER NOT NULL DEFAULT 0,
        down_ms INTEGER NOT NULL DEFAULT 0,
        unknown_ms INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (t, key)
      ) WITHOUT ROWID;`;

/**
 * Uplink history. Raw rounds are stored packed (src/uplink/raw-codec.ts, 5 bytes a round;
 * `extra` holds the fields of the rounds that say more than "ok"), one row per probe per flush,
 * not one row per round: a 1 s probe would otherwise cost ~86 000 rows and tens of MB of WAL
 * a day on an SD card. Rollups carry both probe figures and time spent per layer state
 * (`key` = probe name, `layer:<layer>` or `link`), so monthly uptime per layer is a SUM.
 */
export const m002Uplink: Migration = {
  version: 2,
  name: 'uplink',
  up(db) {
    db.exec(`
      CREATE TABLE uplink_raw (
        id INTEGER PRIMARY KEY,
        probe TEXT NOT NULL,
        layer TEXT NOT NULL,
        start_wall INTEGER NOT NULL,
        end_wall INTEGER NOT NULL,
        clock_synced INTEGER NOT NULL,
        n INTEGER NOT NULL,
        rounds BLOB NOT NULL,
        extra TEXT
      );
      CREATE INDEX uplink_raw_start ON uplink_raw (start_wall);
      ${rollupTable('uplink_minute')}
      ${rollupTable('uplink_hour')}
      CREATE TABLE uplink_outages (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        start_wall INTEGER NOT NULL,
        start_mono INTEGER NOT NULL,
        end_wall INTEGER,
        end_mono INTEGER,
        kernel_boot TEXT NOT NULL,
        clock_synced INTEGER NOT NULL,
        duration_ms INTEGER,
        fault_layer TEXT,
        loss_pct_before REAL,
        rtt_ms_before REAL,
        interrupted INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX uplink_outages_start ON uplink_outages (start_wall);
      CREATE TABLE uplink_traffic_daily (
        day TEXT NOT NULL,
        iface TEXT NOT NULL,
        rx_bytes INTEGER NOT NULL DEFAULT 0,
        tx_bytes INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (day, iface)
      ) WITHOUT ROWID;
    `);
  },
};
