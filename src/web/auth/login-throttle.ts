import type { Database } from 'better-sqlite3';
import type { Clock } from '../../core/clock.js';

export const MAX_FAILURES = 5;
export const WINDOW_MS = 15 * 60_000;

/**
 * Login throttle: at most MAX_FAILURES failures per WINDOW_MS per key (`user:NAME`,
 * `addr:IP`). Failures are persisted, so restarting the daemon does not reset them; they are
 * timed on the monotonic clock of one kernel boot, and a reboot forgets them (a reboot
 * cannot be triggered from the page, and it costs an attacker minutes).
 */
export class LoginThrottle {
  private readonly db: () => Database;
  private readonly clock: Clock;

  constructor(deps: { db: () => Database; clock: Clock }) {
    this.db = deps.db;
    this.clock = deps.clock;
  }

  failures(key: string): number {
    const row = this.db()
      .prepare('SELECT COUNT(*) AS n FROM login_failures WHERE key = ? AND kernel_boot = ? AND at_mono > ?')
      .get(key, this.clock.kernelBootId, this.clock.monoMs() - WINDOW_MS) as { n: number };
    return row.n;
  }

  blocked(keys: string[]): boolean {
    return keys.some((k) => this.failures(k) >= MAX_FAILURES);
  }

  fail(keys: string[]): void {
    const db = this.db();
    const mono = this.clock.monoMs();
    const boot = this.clock.kernelBootId;
    db.transaction(() => {
      const insert = db.prepare('INSERT INTO login_failures (key, kernel_boot, at_mono) VALUES (?, ?, ?)');
      for (const k of keys) insert.run(k, boot, mono);
      db.prepare('DELETE FROM login_failures WHERE kernel_boot != ? OR at_mono <= ?').run(
        boot,
        mono - WINDOW_MS,
      );
    })();
  }

  clear(key: string): void {
    this.db().prepare('DELETE FROM login_failures WHERE key = ?').run(key);
  }
}
