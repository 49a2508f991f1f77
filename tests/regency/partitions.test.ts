import { Kysely, Migrator, PostgresDialect, type RawBuilder, sql } from 'kysely';
import pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Scheduler } from '../../src/core/scheduler.js';
import { wibDay } from '../../src/core/wib.js';
import { classify } from '../../src/regency/classify.js';
import type { RegencyConfig } from '../../src/regency/config-schema.js';
import { partitionsModule } from '../../src/regency/modules/partitions.js';
import { storeModule } from '../../src/regency/modules/store.js';
import { PartitionUpkeep } from '../../src/regency/partitions.js';
import { RegencyApp } from '../../src/regency/regency-app.js';
import { Retention } from '../../src/regency/retention.js';
import { IngestRepo, type Received } from '../../src/regency/store/ingest-repo.js';
import { RegencyMigrations } from '../../src/regency/store/migrations.js';
import { type OpenedDb, openRegencyDb } from '../../src/regency/store/open-db.js';
import { PartitionRepo } from '../../src/regency/store/partition-repo.js';
import { RetentionRepo } from '../../src/regency/store/retention-repo.js';
import type { Envelope } from '../../src/report/envelope.js';
import { encodeEnvelope, uuidv7 } from '../../src/report/envelope.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { tempDir } from '../helpers/tmp.js';
import { POSTGRES, receivedKinds, TestStore, testConfig, VillagePublisher, villageCodes } from './helpers.js';

const log = pino({ level: 'silent' });
const DAY = 86_400_000;
const HOUR = 3_600_000;
/** WIB midnight starting 2026-12-01 (17:00 UTC the day before). */
const DEC_1_WIB = Date.parse('2026-11-30T17:00:00Z');

/**
 * The month partitions of `messages` on PostgreSQL (migration 012): the migration keeps every
 * row, a redelivery whose day moved is still a no-op, a month with no partition yet still
 * takes rows, and retention drops whole expired months but keeps their outages and usage.
 */
describe.runIf(POSTGRES)('messages partitioned by month (postgres store)', () => {
  const tmp = tempDir('kgw-regency-partitions-');
  const store = new TestStore('postgres', tmp.path);
  const pub = new VillagePublisher();
  const clock = new FakeClock();
  let config: RegencyConfig;
  let opened: OpenedDb;
  let ingest: IngestRepo;
  let partitions: PartitionRepo;
  let gw: string;

  const iso = (ms: number) => new Date(ms).toISOString();
  const rec = (env: Envelope, kind: string, atMs: number): Received => ({
    item: classify('kampung/v1', `kampung/v1/${env.gw}/${kind}`, Buffer.from(encodeEnvelope(env)), false),
    atMs,
  });
  const kinds = receivedKinds(pub);
  const health = (at: number) => kinds.health(gw, at);
  const event = (at: number) => kinds.event(gw, at);
  const outage = (at: number) => kinds.outage(gw, at);
  const usage = (at: number) => kinds.usage(gw, at);
  const q = async <T>(text: RawBuilder<T>): Promise<T[]> => (await text.execute(opened.db)).rows;
  /** Where each of the given ids is stored: its partition's name. */
  const placeOf = async (ids: string[]) =>
    new Map(
      (
        await q<{ id: string; p: string }>(
          sql`SELECT id, tableoid::regclass::text AS p FROM messages WHERE id = ANY(${ids}::text[])`,
        )
      ).map((r) => [r.id, r.p]),
    );
  const retentionPass = () =>
    new Retention({
      config,
      repo: new RetentionRepo({ db: opened.db }),
      partitions,
      clock,
      log,
      scheduler: new Scheduler({ clock, log }),
    });
  const upkeep = () =>
    new PartitionUpkeep({ repo: partitions, clock, log, scheduler: new Scheduler({ clock, log }) });

  beforeAll(async () => {
    await store.create();
    [gw] = (await villageCodes(1)) as [string];
    config = testConfig(store, tmp.path, { retention: { raw_days: 20, daily_days: 1000, batch: 100 } });
  });
  afterAll(async () => {
    await opened?.db.destroy();
    await store.drop();
    tmp.cleanup();
  });

  it('migration 012 moves every row of a populated store into the partitions', async () => {
    const old = new Kysely<unknown>({
      dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: store.url }) }),
    });
    const migrator = new Migrator({ db: old, provider: new RegencyMigrations('postgres') });
    expect((await migrator.migrateTo('011-rotation-grace')).error).toBeUndefined();
    const rows: Array<[string, string, string]> = [];
    for (let i = 0; i < 300; i++)
      rows.push([uuidv7(1_000 + i), 'health', i % 2 ? '2026-09-14' : '2026-10-02']);
    rows.push([uuidv7(2_000), 'event', '2026-10-31'], [uuidv7(2_001), 'outage', '2026-09-14']);
    rows.push([uuidv7(2_002), 'usage', '2025-01-05'], [uuidv7(2_003), 'health', '1970-01-01']);
    for (const [id, kind, day] of rows)
      await sql`INSERT INTO messages (id, gw, kind, boot, seq, ts, clock_synced, historical, day, received_ms, data)
        VALUES (${id}, ${gw}, ${kind}, 'b0', 1, '2026-10-02T00:00:00Z', 1, 0, ${day}, 0, '{}')`.execute(old);
    await old.destroy();

    opened = await openRegencyDb(config, log);
    ingest = new IngestRepo({
      db: opened.db,
      dialect: opened.dialect,
      sqlite: opened.sqlite,
      repairAfterMs: 300_000,
    });
    partitions = new PartitionRepo({ db: opened.db });
    const place = await placeOf(rows.map(([id]) => id));
    expect(place.size).toBe(rows.length);
    // Every month the raw rows have gets its partition, even a clock's 1970 (retention drops it).
    const expected = (kind: string, day: string) =>
      kind === 'health' || kind === 'event'
        ? `messages_raw_y${day.slice(0, 7).replace('-', 'm')}`
        : 'messages_kept';
    for (const [id, kind, day] of rows) expect([id, place.get(id)]).toEqual([id, expected(kind, day)]);
    expect(await partitions.months()).toEqual(['1970-01', '2026-09', '2026-10']);
    const tables = await q<{ n: string }>(
      sql`SELECT count(*) AS n FROM pg_class WHERE relname = 'messages_pre012'`,
    );
    expect(Number(tables[0]?.n)).toBe(0);
  });

  it('makes the current month and the next two at start', async () => {
    clock.wall = Date.parse('2026-11-28T03:00:00Z');
    const app = new RegencyApp({ config, log, clock, modules: [storeModule, partitionsModule] });
    await app.start();
    await app.stop();
    expect(await partitions.months()).toEqual([
      '1970-01',
      '2026-09',
      '2026-10',
      '2026-11',
      '2026-12',
      '2027-01',
    ]);
  });

  it('a redelivery on the next WIB day (an unsynced clock, so the day of receipt) is still a no-op', async () => {
    const env: Envelope = { ...pub.envelope(gw, 'health'), clock_synced: false, ts: iso(DEC_1_WIB - 60_000) };
    // Received a minute before midnight WIB (November), redelivered a minute after (December).
    const first = await ingest.commit([rec(env, 'health', DEC_1_WIB - 60_000)]);
    expect(first).toMatchObject({ messages: 1, duplicates: 0 });
    const again = await ingest.commit([rec(env, 'health', DEC_1_WIB + 60_000)]);
    expect(again).toMatchObject({ messages: 0, duplicates: 1 });
    // Also when the same commit holds a new envelope beside the redelivered one.
    const other: Envelope = { ...pub.envelope(gw, 'event'), clock_synced: false, ts: iso(DEC_1_WIB) };
    const mixed = await ingest.commit([
      rec(env, 'health', DEC_1_WIB + HOUR),
      rec(other, 'event', DEC_1_WIB + HOUR),
    ]);
    expect(mixed).toMatchObject({ messages: 1, duplicates: 1 });
    const stored = await q<{ day: string }>(sql`SELECT day FROM messages WHERE id = ${env.id}`);
    expect(stored.map((s) => s.day)).toEqual(['2026-11-30']);
    const days = await q<{ day: string; messages: string; duplicates: string }>(
      sql`SELECT day, messages, duplicates FROM ledger_days WHERE gw = ${gw} AND day >= '2026-11-30' ORDER BY day`,
    );
    expect(days.map((d) => [d.day, Number(d.messages), Number(d.duplicates)])).toEqual([
      ['2026-11-30', 1, 0],
      ['2026-12-01', 1, 2],
    ]);
  });

  it('a row of a month without a partition lands in the default one, and moves when its month is made', async () => {
    const far = Date.parse('2027-06-15T05:00:00Z');
    const r = await ingest.commit([health(far)]);
    expect(r.messages).toBe(1);
    const [row] = await q<{ id: string }>(sql`SELECT id FROM messages WHERE day = '2027-06-15'`);
    expect((await placeOf([row?.id ?? ''])).get(row?.id ?? '')).toBe('messages_raw_default');
    const at = clock.wall;
    clock.wall = Date.parse('2027-05-02T00:00:00Z');
    expect(await upkeep().ensure()).toEqual(['2027-05', '2027-06', '2027-07']);
    clock.wall = at;
    expect((await placeOf([row?.id ?? ''])).get(row?.id ?? '')).toBe('messages_raw_y2027m06');
    // Made already: a second pass (or another collector's) makes nothing.
    expect(await partitions.ensure(['2027-06'])).toEqual([]);
  });

  it('retention drops the expired months whole, keeps their outages and usage and the current months', async () => {
    // Now 2026-11-28, raw_days 20: raw rows before 2026-11-08 go; September and October whole.
    const now = clock.wall;
    const batch: Received[] = [];
    for (let i = 0; i < 40; i++)
      batch.push(health(now - 60 * DAY + i * HOUR), event(now - 40 * DAY + i * HOUR));
    for (let i = 0; i < 7; i++) batch.push(health(now - 25 * DAY + i * HOUR)); // 2026-11-03: partly expired month
    for (let i = 0; i < 5; i++) batch.push(health(now - 2 * DAY + i * HOUR));
    batch.push(outage(now - 60 * DAY), usage(now - 40 * DAY), outage(now - 25 * DAY));
    batch.push(rec({ ...pub.envelope(gw, 'health'), ts: '1999-12-31T00:00:00Z' }, 'health', now)); // clock far off
    await ingest.commit(batch);
    const before = await q<{ kind: string; m: string; n: string }>(
      sql`SELECT kind, substr(day, 1, 7) AS m, count(*) AS n FROM messages GROUP BY 1, 2 ORDER BY 1, 2`,
    );
    const rawBefore = before
      .filter((b) => (b.kind === 'health' || b.kind === 'event') && b.m < '2026-11')
      .reduce((n, b) => n + Number(b.n), 0);

    const retention = retentionPass();
    const res = await retention.prune();
    expect(res.partitions).toBe(3); // 1970-01, 2026-09, 2026-10
    // The three months' rows (the migration's too), the 1999 row (default partition), the seven
    // of 2026-11-03: the partitions' rows as PostgreSQL counts or estimates them (exact for a
    // table ANALYZE read whole), the others deleted row by row.
    expect(res.partition_rows + res.raw).toBe(rawBefore + 7);
    expect(res.raw).toBeGreaterThanOrEqual(7);
    expect(await partitions.months()).toEqual([
      '2026-11',
      '2026-12',
      '2027-01',
      '2027-05',
      '2027-06',
      '2027-07',
    ]);
    const after = await q<{ kind: string; day: string }>(
      sql`SELECT kind, day FROM messages ORDER BY day, kind`,
    );
    const raw = after.filter((a) => a.kind === 'health' || a.kind === 'event');
    expect(raw.every((a) => a.day >= wibDay(now - 20 * DAY))).toBe(true);
    expect(
      raw.filter((a) => a.day >= wibDay(now - 2 * DAY) && a.day <= wibDay(now)).length,
    ).toBeGreaterThanOrEqual(5);
    const kept = after
      .filter((a) => a.kind === 'outage' || a.kind === 'usage')
      .map((a) => `${a.kind}:${a.day}`);
    expect(kept).toEqual([
      'usage:2025-01-05',
      'outage:2026-09-14',
      `outage:${wibDay(now - 60 * DAY)}`,
      `usage:${wibDay(now - 40 * DAY)}`,
      `outage:${wibDay(now - 25 * DAY)}`,
    ]);
    expect(await retention.prune()).toMatchObject({ raw: 0, partitions: 0 });
  });

  it('a month whose partition cannot be locked waits for the next pass, not deleted row by row', async () => {
    const now = clock.wall;
    expect(await partitions.ensure(['2026-08'])).toEqual(['2026-08']);
    await ingest.commit(Array.from({ length: 12 }, (_, i) => health(now - 100 * DAY + i * HOUR)));
    const retention = retentionPass();
    // A long reader of the raw partitions: dropping one needs them to itself.
    const reader = new pg.Client({ connectionString: store.url });
    await reader.connect();
    try {
      await reader.query('BEGIN');
      await reader.query('LOCK TABLE messages_raw IN ACCESS SHARE MODE');
      expect(await retention.prune()).toMatchObject({ raw: 0, partitions: 0 });
      await reader.query('ROLLBACK');
    } finally {
      await reader.end();
    }
    const left = await q<{ n: string }>(sql`SELECT count(*) AS n FROM messages_raw_y2026m08`);
    expect(Number(left[0]?.n)).toBe(12);
    // Analyzed now: the figure is PostgreSQL's statistics, not a count (exact for 12 rows).
    await q(sql`ANALYZE messages_raw_y2026m08`);
    await q(
      sql`DELETE FROM messages_raw_y2026m08 WHERE ctid IN (SELECT ctid FROM messages_raw_y2026m08 LIMIT 2)`,
    );
    expect(await retention.prune()).toMatchObject({ raw: 0, partitions: 1, partition_rows: 12 });
    expect(await partitions.months()).not.toContain('2026-08');
  }, 20_000);
});
