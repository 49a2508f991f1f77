import { type Kysely, sql } from 'kysely';

/**
 * Migration 012 on PostgreSQL: `messages` becomes a partitioned table, so retention drops a
 * whole month of raw envelopes instead of deleting it row by row (docs/regency.md "Retention").
 *
 *   messages               PARTITION BY LIST (kind)
 *     messages_raw           health, event        PARTITION BY RANGE (day)
 *       messages_raw_y2026m12  one a WIB month: [2026-12-01, 2027-01-01)
 *       messages_raw_default   days of no month partition (a clock far off, a month not made yet)
 *     messages_kept          every other kind (outage, usage): DEFAULT
 *
 * Split by kind first because the report kinds are kept for daily_days (five years), the raw
 * ones for raw_days (35 days): a month partition holding both could never be dropped while
 * its outages were still wanted, and moving those out first would be a row-by-row copy again.
 * The report kinds are a small share of the stream, so they keep the batched delete.
 *
 * The primary key has to hold both partition keys: (id, kind, day). The day of an envelope
 * whose gateway clock was not synced is its day of receipt, so a redelivery across a WIB
 * midnight has another day: the key alone no longer makes it a no-op, the ingest looks its id
 * up first (ingest-write.ts). id leads the key, so that look-up is an index probe a partition.
 *
 * This migration's SQL is its own (not shared with partition-repo.ts) so that it never changes
 * once released. The rows are copied in the migration's transaction: a store of hundreds of
 * millions of rows takes a maintenance window (docs/regency.md "Retention").
 */
export async function partitionMessages(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE messages RENAME TO messages_pre012`.execute(db);
  await sql`ALTER INDEX messages_pkey RENAME TO messages_pre012_pkey`.execute(db);
  await sql`ALTER INDEX messages_gw_day RENAME TO messages_pre012_gw_day`.execute(db);
  await sql`ALTER INDEX messages_gw_seq RENAME TO messages_pre012_gw_seq`.execute(db);
  await sql`
    CREATE TABLE messages (
      id text NOT NULL, gw text NOT NULL, kind text NOT NULL, boot text NOT NULL,
      seq bigint NOT NULL, ts text NOT NULL, clock_synced integer NOT NULL,
      historical integer NOT NULL, day text NOT NULL, received_ms bigint NOT NULL,
      data text NOT NULL,
      CONSTRAINT messages_pkey PRIMARY KEY (id, kind, day)
    ) PARTITION BY LIST (kind)`.execute(db);
  await sql`CREATE TABLE messages_raw PARTITION OF messages
    FOR VALUES IN ('health', 'event') PARTITION BY RANGE (day)`.execute(db);
  await sql`CREATE TABLE messages_raw_default PARTITION OF messages_raw DEFAULT`.execute(db);
  await sql`CREATE TABLE messages_kept PARTITION OF messages DEFAULT`.execute(db);
  await sql`CREATE INDEX messages_gw_day ON messages (gw, day)`.execute(db);
  await sql`CREATE INDEX messages_gw_seq ON messages (gw, seq)`.execute(db);
  // A month partition for every month the stored raw rows have; the collector adds the
  // current and the next ones at start (partition-repo.ts).
  const months = await sql<{ m: string }>`
    SELECT DISTINCT substr(day, 1, 7) AS m FROM messages_pre012
    WHERE kind IN ('health', 'event') AND day ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'`.execute(db);
  for (const { m } of months.rows) {
    const [y, mo] = m.split('-').map(Number) as [number, number];
    const next = mo === 12 ? `${y + 1}-01` : `${y}-${String(mo + 1).padStart(2, '0')}`;
    const name = `messages_raw_y${m.replace('-', 'm')}`;
    await sql`CREATE TABLE ${sql.id(name)} PARTITION OF messages_raw
      FOR VALUES FROM (${sql.lit(`${m}-01`)}) TO (${sql.lit(`${next}-01`)})`.execute(db);
  }
  await sql`
    INSERT INTO messages (id, gw, kind, boot, seq, ts, clock_synced, historical, day, received_ms, data)
    SELECT id, gw, kind, boot, seq, ts, clock_synced, historical, day, received_ms, data
    FROM messages_pre012`.execute(db);
  await sql`DROP TABLE messages_pre012`.execute(db);
}
