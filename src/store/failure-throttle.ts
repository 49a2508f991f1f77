import type { Database } from 'better-sqlite3';
import type { Clock } from '../core/clock.js';

export interface ThrottlePolicy {
  /** Failures within `windowMs` that block a key. */
  max: number;
  windowMs: number;
}

/** Technician login and setup: 5 failures per 15 minutes per user and per address (SPEC). */
export const LOGIN_POLICY: ThrottlePolicy = { max: 5, windowMs: 15 * 60_000 };
/**
 * Device bearer tokens, per source address. A little more room than a person typing: a kiosk
 * restarting with a stale token retries a few times before it is blocked.
 */
export const DEVICE_TOKEN_POLICY: ThrottlePolicy = { max: 10, windowMs: 15 * 60_000 };

/**
 * The one throttle for guessed secrets (technician passwords, the setup code, device tokens):
 * at most `max` failures per `windowMs` per key (`user:NAME`, `addr:IP`, `device-addr:IP`).
 * Failures are persisted, so restarting the daemon does not reset them; they are timed on the
 * monotonic clock of one kernel boot, and a reboot forgets them (a reboot cannot be triggered
 * from the network, and it costs an attacker minutes). A memory copy answers `blocked()`, so
 * the check costs a map lookup on hot paths (/svc cache hits) and no query.
 */
export class FailureThrottle {
  private readonly db: () => Database;
  private readonly clock: Clock;
  private readonly policy: ThrottlePolicy;
  /** key → monotonic times of its recent failures; loaded from the table at first use. */
  private recent: Map<string, number[]> | undefined;

  constructor(deps: { db: () => Database; clock: Clock; policy: ThrottlePolicy }) {
    this.db = deps.db;
    this.clock = deps.clock;
    this.policy = deps.policy;
  }

  failures(key: string): number {
    const since = this.clock.monoMs() - this.policy.windowMs;
    const times = this.memory().get(key);
    if (!times) return 0;
    while (times.length > 0 && times[0]! <= since) times.shift();
    if (times.length === 0) this.memory().delete(key);
    return times.length;
  }

  blocked(keys: string[]): boolean {
    if (this.memory().size === 0) return false;
    return keys.some((k) => this.failures(k) >= this.policy.max);
  }

  /** Keys blocked right now (for status). */
  blockedCount(): number {
    let n = 0;
    for (const key of [...this.memory().keys()]) if (this.failures(key) >= this.policy.max) n++;
    return n;
  }

  fail(keys: string[]): void {
    const db = this.db();
    const mono = this.clock.monoMs();
    const boot = this.clock.kernelBootId;
    const mem = this.memory();
    for (const k of keys) {
      const times = mem.get(k);
      if (times) times.push(mono);
      else mem.set(k, [mono]);
    }
    db.transaction(() => {
      const insert = db.prepare('INSERT INTO login_failures (key, kernel_boot, at_mono) VALUES (?, ?, ?)');
      for (const k of keys) insert.run(k, boot, mono);
      db.prepare('DELETE FROM login_failures WHERE kernel_boot != ? OR at_mono <= ?').run(
        boot,
        mono - this.policy.windowMs,
      );
    })();
  }

  clear(key: string): void {
    this.memory().delete(key);
    this.db().prepare('DELETE FROM login_failures WHERE key = ?').run(key);
  }

  private memory(): Map<string, number[]> {
    if (this.recent) return this.recent;
    const rows = this.db()
      .prepare(
        'SELECT key, at_mono FROM login_failures WHERE kernel_boot = ? AND at_mono > ? ORDER BY at_mono',
      )
      .all(this.clock.kernelBootId, this.clock.monoMs() - this.policy.windowMs) as Array<{
      key: string;
      at_mono: number;
    }>;
    const m = new Map<string, number[]>();
    for (const r of rows) {
      const times = m.get(r.key);
      if (times) times.push(r.at_mono);
      else m.set(r.key, [r.at_mono]);
    }
    this.recent = m;
    return m;
  }
}
