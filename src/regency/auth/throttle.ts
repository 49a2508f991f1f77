import type { Kysely } from 'kysely';
import type { Clock } from '../../core/clock.js';
import { LOGIN_POLICY, type ThrottlePolicy } from '../../store/failure-throttle.js';
import type { RegencyTables } from '../store/schema.js';

/**
 * The login throttle of the fleet page: the gateway's policy (5 failures per 15 minutes per
 * user and per source address, store/failure-throttle), kept in the regency store so every
 * collector on one PostgreSQL counts the same failures. Logins are rare, so each check is a
 * query rather than a memory copy; times are wall times (the regency server keeps its clock
 * synced, and collectors on several hosts share no monotonic clock).
 */
export class LoginThrottle {
  private readonly db: Kysely<RegencyTables>;
  private readonly clock: Clock;
  private readonly policy: ThrottlePolicy;

  constructor(deps: { db: Kysely<RegencyTables>; clock: Clock; policy?: ThrottlePolicy }) {
    this.db = deps.db;
    this.clock = deps.clock;
    this.policy = deps.policy ?? LOGIN_POLICY;
  }

  async blocked(keys: readonly string[]): Promise<boolean> {
    const rows = await this.db
      .selectFrom('login_failures')
      .select(['key', (eb) => eb.fn.countAll<number>().as('n')])
      .where('key', 'in', [...keys])
      .where('at_ms', '>', this.clock.wallMs() - this.policy.windowMs)
      .groupBy('key')
      .execute();
    return rows.some((r) => Number(r.n) >= this.policy.max);
  }

  async fail(keys: readonly string[]): Promise<void> {
    const now = this.clock.wallMs();
    await this.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('login_failures')
        .values(keys.map((key) => ({ key, at_ms: now })))
        .execute();
      await trx
        .deleteFrom('login_failures')
        .where('at_ms', '<=', now - this.policy.windowMs)
        .execute();
    });
  }

  async clear(key: string): Promise<void> {
    await this.db.deleteFrom('login_failures').where('key', '=', key).execute();
  }
}
