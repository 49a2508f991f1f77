import { type KyselyPlugin, type RawBuilder, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classify, type Inbound } from '../../src/regency/classify.js';
import { IngestRepo, type Received } from '../../src/regency/store/ingest-repo.js';
import type { OpenedDb } from '../../src/regency/store/open-db.js';
import { type Envelope, encodeEnvelope, uuidv7 } from '../../src/report/envelope.js';
import { tempDir } from '../helpers/tmp.js';
import {
  DIALECTS,
  openTestDb,
  type TestDialect,
  TestStore,
  VillagePublisher,
  villageCodes,
} from './helpers.js';

const T0 = Date.parse('2026-03-10T02:00:00Z');

/**
 * Through Kysely a commit costs a fixed number of statements whatever the number of villages
 * in its batch, and the multi-row writes (chunked past 400 rows) keep every village's evidence
 * exact. On SQLite the collector commits on the handle itself (ingest-sqlite.ts): the same
 * evidence, from the same batches.
 */
const CASES = DIALECTS.flatMap(
  (d): Array<{ dialect: TestDialect; native: boolean; name: string }> =>
    d === 'sqlite'
      ? [
          { dialect: d, native: false, name: 'sqlite through Kysely' },
          { dialect: d, native: true, name: 'sqlite on its handle' },
        ]
      : [{ dialect: d, native: false, name: d }],
);

describe.each(CASES)('batched ingest on $name', ({ dialect, native }) => {
  const tmp = tempDir('kgw-regency-batch-');
  const store = new TestStore(dialect, tmp.path);
  const pub = new VillagePublisher();
  let opened: OpenedDb;
  let statements = 0;
  let repo: IngestRepo;
  let codes: string[];

  const counting: KyselyPlugin = {
    transformQuery: (args) => {
      statements++;
      return args.node;
    },
    transformResult: async (args) => args.result,
  };
  const event = (gw: string, boot: string, seq: number, id = uuidv7(T0 + seq)): Envelope => ({
    ...pub.envelope(gw, 'event', seq),
    boot,
    id,
    ts: new Date(T0 + seq * 1000).toISOString(),
  });
  const env = (e: Envelope): Inbound =>
    classify('kampung/v1', `kampung/v1/${e.gw}/event`, Buffer.from(encodeEnvelope(e)), false);
  const device = (gw: string, id: string, state: string | null): Inbound =>
    classify(
      'kampung/v1',
      `kampung/v1/${gw}/device/${id}`,
      Buffer.from(
        state === null
          ? ''
          : JSON.stringify({
              id,
              name: id,
              kind: 'kiosk',
              state,
              since: null,
              reason: null,
              last_heartbeat: null,
            }),
      ),
      true,
    );
  const at = (item: Inbound, atMs = T0): Received => ({ item, atMs });
  const rows = async <T>(query: RawBuilder<unknown>): Promise<T[]> =>
    (await query.execute(opened.db)).rows as T[];
  const commitCounted = async (batch: Received[]) => {
    statements = 0;
    const r = await repo.commit(batch);
    return { r, statements };
  };

  beforeAll(async () => {
    await store.create();
    opened = await openTestDb(store, tmp.path);
    repo = new IngestRepo({
      db: opened.db.withPlugin(counting),
      dialect: opened.dialect,
      sqlite: native ? opened.sqlite : undefined,
      repairAfterMs: 300_000,
    });
    codes = await villageCodes(203);
  });
  afterAll(async () => {
    await opened?.db.destroy();
    await store.drop();
    tmp.cleanup();
  });

  it('a batch of 3 villages and one of 203 run the same number of statements', async () => {
    const small = await commitCounted(codes.slice(0, 3).map((gw) => at(env(event(gw, 'b1', 1)))));
    expect(small.r.messages).toBe(3);
    const batch = codes.map((gw) => at(env(event(gw, 'b1', 2))));
    const large = await commitCounted(batch);
    expect(large.r.messages).toBe(203);
    if (native) expect(large.statements).toBe(0);
    else {
      // Ten statements a village (the row, its gaps, boots, ranges, day, message, update) was
      // over 2,000 for this batch: now it is the same handful as for three villages.
      expect(large.statements).toBeLessThanOrEqual(small.statements + 2);
      expect(large.statements).toBeLessThan(30);
    }
  });

  it('past one chunk (400 rows), with copies and gaps in the batch, every village is exact', async () => {
    const gws = codes.slice(0, 150);
    const batch: Received[] = [];
    const copies: Received[] = [];
    for (const gw of gws) {
      // seq 3 and 4 in order, then 7 (a gap 5..6), a copy of 4 (a redelivery in the same batch).
      const e4 = event(gw, 'b1', 4);
      batch.push(at(env(event(gw, 'b1', 3))), at(env(e4)), at(env(event(gw, 'b1', 7))));
      copies.push(at(env(e4)));
      batch.push(
        at(device(gw, 'kiosk-1', 'online')),
        at(device(gw, 'kiosk-1', 'offline')),
        at(device(gw, 'printer', 'online')),
      );
    }
    const r = await repo.commit([...batch, ...copies]);
    expect(r.messages).toBe(150 * 3);
    expect(r.duplicates).toBe(150);
    expect(r.gapsOpened).toBe(150);
    expect(r.quarantined).toBe(0);
    const v = await rows<{ gw: string; min_seq: number; max_seq: number }>(
      sql`SELECT gw, min_seq, max_seq FROM villages WHERE gw = ${gws[149]}`,
    );
    expect(v.map((x) => [Number(x.min_seq), Number(x.max_seq)])).toEqual([[2, 7]]);
    const gaps = await rows<{ lo: number; hi: number }>(
      sql`SELECT lo, hi FROM seq_gaps WHERE state = 'open' AND gw = ${gws[0]}`,
    );
    expect(gaps.map((g) => [Number(g.lo), Number(g.hi)])).toEqual([[5, 6]]);
    const ranges = await rows<{ lo: number; hi: number }>(
      sql`SELECT lo, hi FROM seq_ranges WHERE gw = ${gws[0]} ORDER BY lo`,
    );
    expect(ranges.map((g) => [Number(g.lo), Number(g.hi)])).toEqual([
      [1, 4],
      [7, 7],
    ]);
    // The last device state in the batch wins.
    const dev = await rows<{ device_id: string; state: string }>(
      sql`SELECT device_id, state FROM village_devices WHERE gw = ${gws[10]} ORDER BY device_id`,
    );
    expect(dev.map((d) => [d.device_id, d.state])).toEqual([
      ['kiosk-1', 'offline'],
      ['printer', 'online'],
    ]);

    // The gap fills in the next batch (narrowed, then closed) and a cleared device goes.
    const r2 = await repo.commit(
      gws.flatMap((gw) => [at(env(event(gw, 'b1', 5))), at(device(gw, 'printer', null))]),
    );
    expect(r2.messages).toBe(150);
    const narrowed = await rows<{ lo: number; hi: number }>(
      sql`SELECT lo, hi FROM seq_gaps WHERE state = 'open' AND gw = ${gws[0]}`,
    );
    expect(narrowed.map((g) => [Number(g.lo), Number(g.hi)])).toEqual([[6, 6]]);
    await repo.commit(gws.map((gw) => at(env(event(gw, 'b1', 6)))));
    const open = await rows<{ n: number }>(sql`SELECT COUNT(*) AS n FROM seq_gaps WHERE state = 'open'`);
    expect(Number(open[0]?.n)).toBe(0);
    const devs = await rows<{ n: number }>(
      sql`SELECT COUNT(*) AS n FROM village_devices WHERE device_id = 'printer'`,
    );
    expect(Number(devs[0]?.n)).toBe(0);
    const day = await rows<{ messages: number; duplicates: number }>(
      sql`SELECT messages, duplicates FROM ledger_days WHERE gw = ${gws[0]}`,
    );
    expect(day.map((d) => [Number(d.messages), Number(d.duplicates)])).toEqual([[7, 1]]);
  });
});
