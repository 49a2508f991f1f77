import type { Database } from 'better-sqlite3';

export interface SessionRow {
  token_hash: string;
  technician_id: number;
  name: string;
  kernel_boot: string;
  created_mono: number;
  last_mono: number;
}

/** Server-side sessions; the cookie's token is stored only as its SHA-256. */
export class SessionsRepo {
  private readonly db: () => Database;

  constructor(deps: { db: () => Database }) {
    this.db = deps.db;
  }

  insert(row: Omit<SessionRow, 'name'>, wallMs: number): void {
    this.db()
      .prepare(
        `INSERT INTO sessions (token_hash, technician_id, kernel_boot, created_mono, last_mono, created_wall)
         VALUES (?, ?, ?, ?, ?, ?)`,
      )
      .run(row.token_hash, row.technician_id, row.kernel_boot, row.created_mono, row.last_mono, wallMs);
  }

  get(tokenHash: string): SessionRow | undefined {
    return this.db()
      .prepare(
        `SELECT s.token_hash, s.technician_id, t.name, s.kernel_boot, s.created_mono, s.last_mono
         FROM sessions s JOIN technicians t ON t.id = s.technician_id WHERE s.token_hash = ?`,
      )
      .get(tokenHash) as SessionRow | undefined;
  }

  touch(tokenHash: string, mono: number): void {
    this.db().prepare('UPDATE sessions SET last_mono = ? WHERE token_hash = ?').run(mono, tokenHash);
  }

  delete(tokenHash: string): void {
    this.db().prepare('DELETE FROM sessions WHERE token_hash = ?').run(tokenHash);
  }

  /** Drops sessions of other kernel boots and those idle or older than the limits. */
  prune(kernelBoot: string, mono: number, idleMs: number, maxMs: number): number {
    return this.db()
      .prepare('DELETE FROM sessions WHERE kernel_boot != ? OR last_mono < ? OR created_mono < ?')
      .run(kernelBoot, mono - idleMs, mono - maxMs).changes;
  }
}
