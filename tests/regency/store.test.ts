import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { wibDay } from '../../src/core/wib.js';
import { classify, type Inbound } from '../../src/regency/classify.js';
import { validateRegencyConfigText } from '../../src/regency/config.js';
import type { RegencyConfig } from '../../src/regency/config-schema.js';
import { IngestRepo, type Received } from '../../src/regency/store/ingest-repo.js';
import { type OpenedDb, openRegencyDb } from '../../src/regency/store/open-db.js';
import { ReadRepo } from '../../src/regency/store/read-repo.js';
import { encodeEnvelope } from '../../src/report/envelope.js';
import { tempDir } from '../helpers/tmp.js';
import { DIALECTS, regencyConfig, TestStore, VillagePublisher } from './helpers.js';

const GW = '3510010001';
const T0 = 1_800_000_000_000;

describe.each(DIALECTS)('regency store on %s', (dialect) => {
  const tmp = tempDir('kgw-regency-store-');
  const store = new TestStore(dialect, tmp.path);
  const pub = new VillagePublisher();
  let opened: OpenedDb;
  let ingest: IngestRepo;
  let read: ReadRepo;

  const item = (env: ReturnType<VillagePublisher['envelope']>, kind: 'event' | 'health' = 'event'): Inbound =>
    classify('kampung/v1', `kampung/v1/${env.gw}/${kind}`, Buffer.from(encodeEnvelope(env)), false);
  const at = (i: Inbound, atMs = T0): Received => ({ item: i, atMs });

  beforeAll(async () => {
    await store.create();
    const r = validateRegencyConfigText(
      stringify(regencyConfig(store, 'mqtt://127.0.0.1:1')),
      `${tmp.path}/r.yaml`,
    );
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    const config: RegencyConfig = r.config;
    opened = await openRegencyDb(config, pino({ level: 'silent' }));
    ingest = new IngestRepo({
      db: opened.db,
      dialect: opened.dialect,
      sqlite: opened.sqlite,
      repairAfterMs: 300_000,
    });
    read = new ReadRepo({ db: opened.db });
  });
  afterAll(async () => {
    await opened?.db.destroy();
    await store.drop();
    tmp.cleanup();
  });

  it('runs its migrations once: opening again is a no-op', async () => {
    const r = validateRegencyConfigText(
      stringify(regencyConfig(store, 'mqtt://127.0.0.1:1')),
      `${tmp.path}/r.yaml`,
    );
    if (!r.ok) throw new Error('config');
    const again = await openRegencyDb(r.config, pino({ level: 'silent' }));
    await again.db.destroy();
  });

  it('stores an envelope once: a redelivery is a counted no-op', async () => {
    const e = pub.envelope(GW, 'event', 1);
    const r1 = await ingest.commit([at(item(e))]);
    const r2 = await ingest.commit([at(item(e)), at(item(e))]);
    expect(r1).toMatchObject({ messages: 1, duplicates: 0 });
    expect(r2).toMatchObject({ messages: 0, duplicates: 2 });
    const t = await read.totals();
    expect(t).toMatchObject({ messages: 1, duplicates: 2, seq_gaps: 0, reused: 0 });
    const day = await read.ledgerDay(GW, wibDay(Date.parse(e.ts)));
    expect(day).toMatchObject({ messages: 1, duplicates: 2, min_seq: 1, max_seq: 1 });
  });

  it('lists seq gaps and closes them as the missing seqs arrive (in one batch or later)', async () => {
    const gw = '3510010002';
    await ingest.commit([1, 2, 6, 9].map((s) => at(item(pub.envelope(gw, 'event', s)))));
    expect(await read.openGaps(gw)).toEqual([
      { lo: 3, hi: 5 },
      { lo: 7, hi: 8 },
    ]);
    await ingest.commit([at(item(pub.envelope(gw, 'event', 4)))]);
    expect(await read.openGaps(gw)).toEqual([
      { lo: 3, hi: 3 },
      { lo: 5, hi: 5 },
      { lo: 7, hi: 8 },
    ]);
    // Filled soon after it opened: reordering, not a repair.
    await ingest.commit([3, 5, 7, 8].map((s) => at(item(pub.envelope(gw, 'event', s)), T0 + 1000)));
    expect(await read.openGaps(gw)).toEqual([]);
    expect((await read.totals()).repaired).toBe(0);
    expect(await read.seqRanges(gw)).toEqual([{ boot: expect.any(String), lo: 1, hi: 9 }]);
  });

  it('a gap below the first seq heard opens when an older seq arrives; a late fill is "repaired"', async () => {
    const gw = '3510010003';
    await ingest.commit([at(item(pub.envelope(gw, 'event', 50)))]);
    expect(await read.openGaps(gw)).toEqual([]);
    await ingest.commit([at(item(pub.envelope(gw, 'event', 47)))]);
    expect(await read.openGaps(gw)).toEqual([{ lo: 48, hi: 49 }]);
    await ingest.commit([48, 49].map((s) => at(item(pub.envelope(gw, 'event', s)), T0 + 600_000)));
    expect(await read.openGaps(gw)).toEqual([]);
    expect((await read.totals()).repaired).toBe(1);
  });

  it('a seq received again with a new id (power cut) is counted as reused, not as a duplicate', async () => {
    const gw = '3510010004';
    await ingest.commit([1, 2, 3].map((s) => at(item(pub.envelope(gw, 'event', s)))));
    const before = await read.totals();
    const r = await ingest.commit([at(item(pub.envelope(gw, 'event', 2)))]);
    expect(r).toMatchObject({ messages: 1, duplicates: 0, reused: 1 });
    const after = await read.totals();
    expect(after.reused - before.reused).toBe(1);
    expect(after.duplicates).toBe(before.duplicates);
    expect(await read.openGaps(gw)).toEqual([]);
  });

  it('seqs folded into a health summary are accounted for, not gaps', async () => {
    const gw = '3510010005';
    const h = pub.envelope(gw, 'health', 5);
    (h.data as Record<string, unknown>).summary = {
      from: h.ts,
      to: h.ts,
      samples: 3,
      folded_seqs: [3, 4],
      link_verdicts: { up: 3 },
    };
    await ingest.commit([at(item(pub.envelope(gw, 'event', 2))), at(item(h, 'health'))]);
    expect(await read.openGaps(gw)).toEqual([]);
    expect(await read.ledgerDay(gw, wibDay(Date.parse(h.ts)))).toMatchObject({ messages: 2, folded: 2 });
  });

  it('keeps quarantined messages with their reason, payload capped', async () => {
    const bad = classify('kampung/v1', `kampung/v1/${GW}/event`, Buffer.from('{not json'), false);
    const big = classify('kampung/v1', `kampung/v1/${GW}/usage`, Buffer.alloc(300 * 1024, 0x20), false);
    const r = await ingest.commit([at(bad), at(big)]);
    expect(r.quarantined).toBe(2);
    const rows = await opened.db.selectFrom('quarantine').selectAll().orderBy('id').execute();
    expect(rows.map((x) => x.reason)).toEqual(['malformed_json', 'oversized']);
    expect(rows[1]?.size).toBe(300 * 1024);
    expect(rows[1]?.payload.length).toBeLessThanOrEqual(4096);
  });
});
