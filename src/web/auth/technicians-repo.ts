import type { Database } from 'better-sqlite3';

export interface Technician {
  id: number;
  name: string;
  password_hash: string;
}

/** Technician accounts. Names are login names, never shown outside the page and the audit. */
export class TechniciansRepo {
  private readonly db: () => Database;

  constructor(deps: { db: () => Database }) {
    this.db = deps.db;
  }

  count(): number {
    return (this.db().prepare('SELECT COUNT(*) AS n FROM technicians').get() as { n: number }).n;
  }

  byName(name: string): Technician | undefined {
    return this.db().prepare('SELECT id, name, password_hash FROM technicians WHERE name = ?').get(name) as
      | Technician
      | undefined;
  }

  byId(id: number): Technician | undefined {
    return this.db().prepare('SELECT id, name, password_hash FROM technicians WHERE id = ?').get(id) as
      | Technician
      | undefined;
  }

  add(name: string, passwordHash: string, wallMs: number): number {
    const r = this.db()
      .prepare(
        'INSERT INTO technicians (name, password_hash, created_wall, updated_wall) VALUES (?, ?, ?, ?)',
      )
      .run(name, passwordHash, wallMs, wallMs);
    return Number(r.lastInsertRowid);
  }

  /** Also ends the account's sessions: a changed password logs everyone out. */
  setPassword(name: string, passwordHash: string, wallMs: number): boolean {
    const t = this.byName(name);
    if (!t) return false;
    this.db()
      .prepare('UPDATE technicians SET password_hash = ?, updated_wall = ? WHERE id = ?')
      .run(passwordHash, wallMs, t.id);
    this.db().prepare('DELETE FROM sessions WHERE technician_id = ?').run(t.id);
    return true;
  }

  remove(name: string): boolean {
    return this.db().prepare('DELETE FROM technicians WHERE name = ?').run(name).changes > 0;
  }
}
