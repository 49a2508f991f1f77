import type { Kysely } from 'kysely';
import type { RegencyTables } from './schema.js';

/** Raw envelope kinds (the bulk), pruned after retention.raw_days. */
export const RAW_KINDS = ['health', 'event'] as const;
/** Envelopes the monthly reports are computed from: kept with the daily aggregates. */
export const REPORT_KINDS = ['outage', 'usage'] as const;

/**
 * Deletes of the retention pass, each bounded to `batch` rows (one short transaction), on
 * both dialects (`id IN (SELECT … LIMIT n)`: SQLite builds have no DELETE … LIMIT). Messages
 * are deleted village by village on the (gw, day) index, so no pass scans the whole table.
 * Each call returns how many rows it deleted; the caller repeats while a full batch came back.
 * On PostgreSQL whole months of raw rows go as partitions first (partition-repo.ts); these
 * deletes take the rest: the month partly expired, the default partition, the report kinds.
 */
export class RetentionRepo {
  private readonly db: Kysely<RegencyTables>;

  constructor(deps: { db: Kysely<RegencyTables> }) {
    this.db = deps.db;
  }

  async villages(): Promise<string[]> {
    return (await this.db.selectFrom('villages').select('gw').orderBy('gw').execute()).map((r) => r.gw);
  }

  /** Messages of the kinds given, of one village, of WIB days before `beforeDay`. */
  async messages(gw: string, kinds: readonly string[], beforeDay: string, batch: number): Promise<number> {
    // The day and kind again outside: on PostgreSQL they prune the partitions the delete visits.
    const r = await this.db
      .deleteFrom('messages')
      .where('day', '<', beforeDay)
      .where('kind', 'in', kinds)
      .where(
        'id',
        'in',
        this.db
          .selectFrom('messages')
          .select('id')
          .where('gw', '=', gw)
          .where('day', '<', beforeDay)
          .where('kind', 'in', kinds)
          .limit(batch),
      )
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  async quarantine(beforeMs: number, batch: number): Promise<number> {
    const r = await this.db
      .deleteFrom('quarantine')
      .where(
        'id',
        'in',
        this.db.selectFrom('quarantine').select('id').where('at_ms', '<', beforeMs).limit(batch),
      )
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  /** Daily aggregates and bookkeeping older than the daily tier (small tables: one delete each). */
  async daily(beforeDay: string, beforeMs: number): Promise<number> {
    let n = 0;
    const count = (r: { numDeletedRows: bigint }) => {
      n += Number(r.numDeletedRows);
    };
    count(await this.db.deleteFrom('ledger_days').where('day', '<', beforeDay).executeTakeFirst());
    count(await this.db.deleteFrom('seq_reuse').where('day', '<', beforeDay).executeTakeFirst());
    count(
      await this.db
        .deleteFrom('seq_gaps')
        .where('state', '!=', 'open')
        .where('opened_day', '<', beforeDay)
        .executeTakeFirst(),
    );
    count(await this.db.deleteFrom('command_audit').where('at_ms', '<', beforeMs).executeTakeFirst());
    count(
      await this.db
        .deleteFrom('alert_queue')
        .where('state', '!=', 'pending')
        .where('created_ms', '<', beforeMs)
        .executeTakeFirst(),
    );
    return n;
  }
}
