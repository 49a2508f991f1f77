import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classify, type Inbound } from '../../src/regency/classify.js';
import { IngestRepo, type Received } from '../../src/regency/store/ingest-repo.js';
import type { OpenedDb } from '../../src/regency/store/open-db.js';
import { ReadRepo } from '../../src/regency/store/read-repo.js';
import { type Envelope, encodeEnvelope, uuidv7 } from '../../src/report/envelope.js';
import { tempDir } from '../helpers/tmp.js';
import { DIALECTS, openTestDb, TestStore, VillagePublisher } from './helpers.js';

const T0 = Date.parse('2026-03-10T02:00:00Z');
const YEAR_MS = 365 * 86_400_000;

/**
 * Order-safe village state: late, replayed and reordered messages, a box whose wall clock is a
 * year off, and a power cut that rolls the seq back, delivered through three ingest writers
 * (as three collectors on one store). The row must always show the newest state by
 * (boot, seq), never the last one committed.
 */
describe.each(DIALECTS)('order-safe village state on %s', (dialect) => {
  const tmp = tempDir('kgw-regency-order-');
  const store = new TestStore(dialect, tmp.path);
  const pub = new VillagePublisher();
  let opened: OpenedDb;
  let writers: IngestRepo[];
  let read: ReadRepo;
  let healthTemplate: Record<string, unknown>;

  const health = (
    gw: string,
    boot: string,
    seq: number,
    verdict: string,
    opts: { tsMs?: number; synced?: boolean; historical?: boolean; id?: string } = {},
  ): Envelope => {
    const data = structuredClone(healthTemplate) as {
      link: Record<string, unknown>;
      gateway: { boot: string };
      outbox: { depth: number };
    };
    data.link = { verdict, fault_layer: verdict === 'down' ? 'isp' : null };
    data.gateway.boot = boot;
    // The seq rides in the outbox depth, so the row tells which sample it shows.
    data.outbox.depth = seq;
    return {
      v: 1,
      gw,
      boot,
      seq,
      id: opts.id ?? uuidv7(T0 + seq),
      ts: new Date(opts.tsMs ?? T0 + seq * 60_000).toISOString(),
      clock_synced: opts.synced ?? true,
      historical: opts.historical ?? false,
      data,
    };
  };
  const env = (e: Envelope): Inbound =>
    classify('kampung/v1', `kampung/v1/${e.gw}/health`, Buffer.from(encodeEnvelope(e)), false);
  const retained = (gw: string, kind: 'status' | 'link', payload: unknown, isRetained = false): Inbound =>
    classify('kampung/v1', `kampung/v1/${gw}/${kind}`, Buffer.from(JSON.stringify(payload)), isRetained);
  const link = (verdict: string) => ({
    verdict,
    fault_layer: verdict === 'down' ? 'isp' : null,
    since: null,
    layers: {},
    outage: null,
  });
  const at = (item: Inbound, atMs: number): Received => ({ item, atMs });
  const row = async (gw: string) => {
    const r = (await read.villages()).find((v) => v.gw === gw);
    if (!r) throw new Error(`no row for ${gw}`);
    return r;
  };
  const shownSeq = async (gw: string) => {
    const r = await row(gw);
    return { verdict: r.verdict, seq: r.outbox_depth };
  };

  beforeAll(async () => {
    await store.create();
    opened = await openTestDb(store, tmp.path);
    writers = [0, 1, 2].map(
      () =>
        new IngestRepo({
          db: opened.db,
          dialect: opened.dialect,
          sqlite: opened.sqlite,
          repairAfterMs: 300_000,
        }),
    );
    read = new ReadRepo({ db: opened.db });
    healthTemplate = pub.envelope('3510010001', 'health').data as Record<string, unknown>;
  });
  afterAll(async () => {
    await opened?.db.destroy();
    await store.drop();
    tmp.cleanup();
  });

  it('a late sample of the same boot never replaces a newer one', async () => {
    const gw = '3510010001';
    await writers[0]?.commit([at(env(health(gw, 'b1', 1, 'up')), T0)]);
    await writers[0]?.commit([at(env(health(gw, 'b1', 3, 'down')), T0 + 1000)]);
    await writers[1]?.commit([at(env(health(gw, 'b1', 2, 'up')), T0 + 2000)]);
    expect(await shownSeq(gw)).toEqual({ verdict: 'down', seq: 3 });
    const r = await row(gw);
    expect(Number(r.last_seen_ms)).toBe(T0 + 2000);
    // The seq ledger still counts the late one: order affects state, not evidence.
    expect([Number(r.min_seq), Number(r.max_seq)]).toEqual([1, 3]);
  });

  it('historical replays and redeliveries leave the state alone', async () => {
    const gw = '3510010002';
    const first = health(gw, 'b1', 5, 'down');
    await writers[0]?.commit([at(env(first), T0)]);
    await writers[0]?.commit([at(env(health(gw, 'b1', 6, 'up')), T0 + 1000)]);
    // A resend answer: the same envelope marked historical (same id), and an older one not yet held.
    await writers[1]?.commit([
      at(env({ ...first, historical: true }), T0 + 2000),
      at(env(health(gw, 'b1', 4, 'down', { historical: true })), T0 + 2000),
      // A historical one of a boot never heard of live must not invent a newer run.
      at(env(health(gw, 'b0', 99, 'down', { historical: true })), T0 + 2000),
    ]);
    // A plain redelivery of the first (same id, not historical).
    await writers[2]?.commit([at(env(first), T0 + 3000)]);
    expect(await shownSeq(gw)).toEqual({ verdict: 'up', seq: 6 });
    expect(Number((await row(gw)).last_seen_ms)).toBe(T0 + 3000);
  });

  it('a wall clock a year off does not decide: (boot, seq) does', async () => {
    const gw = '3510010003';
    // Before NTP: the box believes it is a year ahead; the next sample has the real time.
    await writers[0]?.commit([
      at(env(health(gw, 'b1', 10, 'down', { tsMs: T0 + YEAR_MS, synced: false })), T0),
    ]);
    await writers[0]?.commit([at(env(health(gw, 'b1', 11, 'up', { tsMs: T0 + 60_000 })), T0 + 60_000)]);
    // A late sample stamped a year ahead and one stamped a year back both lose to seq 11.
    await writers[1]?.commit([
      at(env(health(gw, 'b1', 9, 'down', { tsMs: T0 + YEAR_MS, synced: false })), T0 + 61_000),
    ]);
    await writers[2]?.commit([
      at(env(health(gw, 'b1', 8, 'down', { tsMs: T0 - YEAR_MS, synced: false })), T0 + 62_000),
    ]);
    expect(await shownSeq(gw)).toEqual({ verdict: 'up', seq: 11 });
  });

  it('a power cut that rolls the seq back: the new boot wins, late messages of the old boot lose', async () => {
    const gw = '3510010004';
    await writers[0]?.commit([
      at(retained(gw, 'status', { online: true, gw, boot: 'old', version: '1.0.0' }), T0),
      at(env(health(gw, 'old', 40, 'up')), T0 + 1000),
      at(env(health(gw, 'old', 41, 'up')), T0 + 2000),
    ]);
    // The box loses power; its counter restarts lower (seq reuse), its clock a year back.
    await writers[1]?.commit([
      at(retained(gw, 'status', { online: true, gw, boot: 'new', version: '1.0.1' }), T0 + 600_000),
      at(env(health(gw, 'new', 38, 'down', { tsMs: T0 - YEAR_MS, synced: false })), T0 + 601_000),
    ]);
    // Then, late, through another collector: the old run's last sample and its Will.
    await writers[2]?.commit([
      at(env(health(gw, 'old', 42, 'up')), T0 + 602_000),
      at(retained(gw, 'status', { online: false, gw, boot: 'old' }), T0 + 602_000),
    ]);
    const r = await row(gw);
    expect(await shownSeq(gw)).toEqual({ verdict: 'down', seq: 38 });
    expect([r.boot, r.online]).toEqual(['new', 1]);
    // The new run goes on normally.
    await writers[0]?.commit([at(env(health(gw, 'new', 39, 'up')), T0 + 660_000)]);
    expect(await shownSeq(gw)).toEqual({ verdict: 'up', seq: 39 });
  });

  it('a retained link is not overridden by a sample older than it', async () => {
    const gw = '3510010005';
    await writers[0]?.commit([at(env(health(gw, 'b1', 1, 'up')), T0)]);
    await writers[0]?.commit([at(env(health(gw, 'b1', 2, 'up')), T0 + 1000)]);
    await writers[0]?.commit([at(retained(gw, 'link', link('down')), T0 + 2000)]);
    // Sample 1 arrives again late from another collector's batch, and an older one never seen.
    await writers[1]?.commit([at(env(health(gw, 'b1', 2, 'up', { id: uuidv7(T0 + 5) })), T0 + 3000)]);
    expect((await row(gw)).verdict).toBe('down');
    // A sample published after the link change does show.
    await writers[2]?.commit([at(env(health(gw, 'b1', 3, 'up')), T0 + 4000)]);
    expect((await row(gw)).verdict).toBe('up');
  });

  it('three writers committing a shuffled stream at once end on the newest state', async () => {
    const gw = '3510010006';
    const n = 60;
    const msgs = Array.from({ length: n }, (_, i) =>
      health(gw, i < 30 ? 'r1' : 'r2', i < 30 ? 100 + i : 5 + i, i % 2 === 0 ? 'down' : 'up'),
    );
    // Boot r2 is announced before its messages, as a gateway's birth status is.
    await writers[0]?.commit([at(retained(gw, 'status', { online: true, gw, boot: 'r1' }), T0)]);
    await writers[0]?.commit([at(retained(gw, 'status', { online: true, gw, boot: 'r2' }), T0 + 1)]);
    // A deterministic shuffle (LCG), split into batches handed round-robin to the writers.
    let x = 12345;
    const order = msgs.map((m) => {
      x = (x * 1103515245 + 12345) % 2 ** 31;
      return { m, k: x };
    });
    order.sort((a, b) => a.k - b.k);
    const batches: Received[][] = [[], [], []];
    for (const [i, { m }] of order.entries()) batches[i % 3]?.push(at(env(m), T0 + 10 + i));
    await Promise.all(
      batches.map(async (b, w) => {
        for (let i = 0; i < b.length; i += 4) await writers[w]?.commit(b.slice(i, i + 4));
      }),
    );
    const last = msgs[n - 1] as Envelope;
    expect(await shownSeq(gw)).toEqual({ verdict: 'up', seq: last.seq });
    expect((await row(gw)).boot).toBe('r2');
  });
});
