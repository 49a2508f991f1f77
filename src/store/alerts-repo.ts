import type { Database } from 'better-sqlite3';
import type { Clock } from '../core/clock.js';

export type Severity = 'info' | 'warning' | 'critical';

export interface Alert {
  id: number;
  at_wall: number;
  clock_synced: boolean;
  code: string;
  severity: Severity;
  message: string;
  details: Record<string, unknown> | null;
}

interface AlertRow extends Omit<Alert, 'clock_synced' | 'details'> {
  clock_synced: number;
  details: string | null;
}

/** Alerts and notable state changes: shown on the page, sent as MQTT `event`. No personal data. */
export class AlertsRepo {
  private readonly db: () => Database;
  private readonly clock: Clock;

  constructor(deps: { db: () => Database; clock: Clock }) {
    this.db = deps.db;
    this.clock = deps.clock;
  }

  add(code: string, severity: Severity, message: string, details?: Record<string, unknown>): number {
    const c = this.clock;
    const r = this.db()
      .prepare(
        `INSERT INTO alerts (at_wall, at_mono, kernel_boot, clock_synced, code, severity, message, details)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        c.wallMs(),
        c.monoMs(),
        c.kernelBootId,
        c.synced() ? 1 : 0,
        code,
        severity,
        message,
        details ? JSON.stringify(details) : null,
      );
    return Number(r.lastInsertRowid);
  }

  recent(limit = 50): Alert[] {
    const rows = this.db()
      .prepare(
        'SELECT id, at_wall, clock_synced, code, severity, message, details FROM alerts ORDER BY id DESC LIMIT ?',
      )
      .all(limit) as AlertRow[];
    return rows.map((r) => ({
      ...r,
      clock_synced: r.clock_synced === 1,
      details: r.details ? (JSON.parse(r.details) as Record<string, unknown>) : null,
    }));
  }
}
