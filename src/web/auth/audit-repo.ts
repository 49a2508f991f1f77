import type { Database } from 'better-sqlite3';
import type { Clock } from '../../core/clock.js';

export interface AuditEntry {
  id: number;
  at: string;
  clock_synced: boolean;
  actor: string | null;
  action: string;
  outcome: string;
  source: string | null;
  details: Record<string, unknown> | null;
}

const KEEP_ROWS = 5000;

/**
 * Who logged in and what they ran. Never holds passwords, codes, tokens or request bodies:
 * callers pass only names, outcomes and short reason codes.
 */
export class AuditRepo {
  private readonly db: () => Database;
  private readonly clock: Clock;

  constructor(deps: { db: () => Database; clock: Clock }) {
    this.db = deps.db;
    this.clock = deps.clock;
  }

  add(e: {
    actor: string | null;
    action: string;
    outcome: string;
    source?: string | null;
    details?: Record<string, unknown>;
  }): void {
    const db = this.db();
    const r = db
      .prepare(
        'INSERT INTO audit (at_wall, clock_synced, actor, action, outcome, source, details) VALUES (?, ?, ?, ?, ?, ?, ?)',
      )
      .run(
        this.clock.wallMs(),
        this.clock.synced() ? 1 : 0,
        e.actor,
        e.action,
        e.outcome,
        e.source ?? null,
        e.details ? JSON.stringify(e.details) : null,
      );
    // Bounded: every 100th row trims the table to the newest KEEP_ROWS.
    if (Number(r.lastInsertRowid) % 100 === 0) {
      db.prepare('DELETE FROM audit WHERE id <= ?').run(Number(r.lastInsertRowid) - KEEP_ROWS);
    }
  }

  recent(limit = 100): AuditEntry[] {
    const rows = this.db()
      .prepare(
        'SELECT id, at_wall, clock_synced, actor, action, outcome, source, details FROM audit ORDER BY id DESC LIMIT ?',
      )
      .all(limit) as Array<{
      id: number;
      at_wall: number;
      clock_synced: number;
      actor: string | null;
      action: string;
      outcome: string;
      source: string | null;
      details: string | null;
    }>;
    return rows.map((r) => ({
      id: r.id,
      at: new Date(r.at_wall).toISOString(),
      clock_synced: r.clock_synced === 1,
      actor: r.actor,
      action: r.action,
      outcome: r.outcome,
      source: r.source,
      details: r.details ? (JSON.parse(r.details) as Record<string, unknown>) : null,
    }));
  }
}
