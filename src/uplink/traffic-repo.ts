import type { Database } from 'better-sqlite3';

export interface TrafficDay {
  day: string;
  iface: string;
  rx_bytes: number;
  tx_bytes: number;
}

/** Bytes through the uplink interface per local (WIB) day: villages pay for their link. */
export class TrafficRepo {
  private readonly db: () => Database;

  constructor(deps: { db: () => Database }) {
    this.db = deps.db;
  }

  add(day: string, iface: string, rx: number, tx: number): void {
    this.db()
      .prepare(
        `INSERT INTO uplink_traffic_daily (day, iface, rx_bytes, tx_bytes) VALUES (?, ?, ?, ?)
         ON CONFLICT (day, iface) DO UPDATE SET rx_bytes = rx_bytes + excluded.rx_bytes, tx_bytes = tx_bytes + excluded.tx_bytes`,
      )
      .run(day, iface, rx, tx);
  }

  get(day: string, iface: string): TrafficDay | undefined {
    return this.db()
      .prepare('SELECT day, iface, rx_bytes, tx_bytes FROM uplink_traffic_daily WHERE day = ? AND iface = ?')
      .get(day, iface) as TrafficDay | undefined;
  }

  recent(days = 31): TrafficDay[] {
    return this.db()
      .prepare(
        'SELECT day, iface, rx_bytes, tx_bytes FROM uplink_traffic_daily ORDER BY day DESC, iface LIMIT ?',
      )
      .all(days * 4) as TrafficDay[];
  }
}
