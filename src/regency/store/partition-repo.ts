import { type Kysely, sql, type Transaction } from 'kysely';
import { GwError } from '../../core/errors.js';
import type { RegencyTables } from './schema.js';

/**
 * The month partitions of `messages_raw` on PostgreSQL (migration 012, migration-012.ts):
 * made ahead of the month, dropped whole once the month is past retention.raw_days.
 *
 * Both steps run in one short transaction each, serialised between collectors sharing the
 * store by an advisory lock, and give up after LOCK_TIMEOUT rather than queue the ingest
 * behind them (a DDL waiting for its lock makes every later writer wait too): the next
 * hourly pass tries again, and meanwhile nothing is lost (rows of a month without its
 * partition land in `messages_raw_default`).
 */

/** A WIB month, "2026-12". */
export type Month = string;

const MONTH = /^(\d{4})-(\d{2})$/;
const PARTITION = /^messages_raw_y(\d{4})m(\d{2})$/;
/** Any number, the same in every collector: the advisory lock of partition upkeep. */
const UPKEEP_LOCK = 31_415_012;
const LOCK_TIMEOUT = '5s';

export function partitionName(month: Month): string {
  if (!MONTH.test(month)) throw new GwError('GW_ERR_INTERNAL', `not a month: ${month}`);
  return `messages_raw_y${month.replace('-', 'm')}`;
}

/** The month after `month` ("2026-12" → "2027-01"). */
export function nextMonth(month: Month): Month {
  const m = MONTH.exec(month);
  if (!m) throw new GwError('GW_ERR_INTERNAL', `not a month: ${month}`);
  const y = Number(m[1]);
  const mo = Number(m[2]);
  return mo === 12 ? `${y + 1}-01` : `${m[1]}-${String(mo + 1).padStart(2, '0')}`;
}

/** `month` and the `ahead` months after it. */
export function monthsFrom(month: Month, ahead: number): Month[] {
  const out = [month];
  for (let i = 0; i < ahead; i++) out.push(nextMonth(out[out.length - 1] as Month));
  return out;
}

export class PartitionRepo {
  private readonly db: Kysely<RegencyTables>;

  constructor(deps: { db: Kysely<RegencyTables> }) {
    this.db = deps.db;
  }

  /** The months that have a partition, oldest first. */
  async months(): Promise<Month[]> {
    const r = await sql<{ name: string }>`
      SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
      WHERE i.inhparent = 'messages_raw'::regclass`.execute(this.db);
    return r.rows
      .flatMap((row) => {
        const m = PARTITION.exec(row.name);
        return m ? [`${m[1]}-${m[2]}`] : [];
      })
      .sort();
  }

  /**
   * Makes the partitions of `months` that are missing; returns the months made. Rows of such
   * a month already in the default partition (a clock months ahead) move into the new one in
   * the same transaction, with the default partition locked so that none arrive meanwhile.
   */
  async ensure(months: readonly Month[]): Promise<Month[]> {
    const made: Month[] = [];
    for (const month of months) {
      const name = partitionName(month);
      const from = `${month}-01`;
      const to = `${nextMonth(month)}-01`;
      const created = await this.upkeep(async (trx) => {
        if (await exists(trx, name)) return false;
        await sql`LOCK TABLE messages_raw_default IN ACCESS EXCLUSIVE MODE`.execute(trx);
        await sql`CREATE TABLE ${sql.id(name)} (LIKE messages_raw)`.execute(trx);
        await sql`
          WITH moved AS (
            DELETE FROM messages_raw_default WHERE day >= ${from} AND day < ${to} RETURNING *
          )
          INSERT INTO ${sql.id(name)} SELECT * FROM moved`.execute(trx);
        await sql`ALTER TABLE messages_raw ATTACH PARTITION ${sql.id(name)}
          FOR VALUES FROM (${sql.lit(from)}) TO (${sql.lit(to)})`.execute(trx);
        return true;
      });
      if (created) made.push(month);
    }
    return made;
  }

  /**
   * Drops a month's partition; returns about how many rows it held: PostgreSQL's own estimate
   * (`pg_class.reltuples`, kept by autovacuum's ANALYZE; exact for a table it read whole),
   * counted only when the table was never analyzed. A count of a national month (billions
   * of rows) would read the whole partition inside this transaction. Detached and dropped in
   * one transaction, so a kill leaves either the partition or nothing. `DETACH … CONCURRENTLY`
   * would not block the ingest for that instant, but PostgreSQL refuses it while a default
   * partition exists.
   */
  async drop(month: Month): Promise<number> {
    const name = partitionName(month);
    return this.upkeep(async (trx) => {
      if (!(await exists(trx, name))) return 0;
      const est = await sql<{ n: number }>`SELECT reltuples AS n FROM pg_class
        WHERE oid = ${name}::regclass`.execute(trx);
      let rows = Number(est.rows[0]?.n ?? -1);
      if (rows < 0) {
        const n = await sql<{ n: string }>`SELECT count(*) AS n FROM ${sql.id(name)}`.execute(trx);
        rows = Number(n.rows[0]?.n ?? 0);
      }
      await sql`ALTER TABLE messages_raw DETACH PARTITION ${sql.id(name)}`.execute(trx);
      await sql`DROP TABLE ${sql.id(name)}`.execute(trx);
      return Math.round(rows);
    });
  }

  private upkeep<T>(step: (trx: Transaction<RegencyTables>) => Promise<T>): Promise<T> {
    return this.db.transaction().execute(async (trx) => {
      await sql`SET LOCAL lock_timeout = ${sql.lit(LOCK_TIMEOUT)}`.execute(trx);
      await sql`SELECT pg_advisory_xact_lock(${sql.lit(UPKEEP_LOCK)})`.execute(trx);
      return step(trx);
    });
  }
}

async function exists(trx: Transaction<RegencyTables>, name: string): Promise<boolean> {
  const r = await sql<{ t: string | null }>`SELECT to_regclass(${name})::text AS t`.execute(trx);
  return r.rows[0]?.t != null;
}
