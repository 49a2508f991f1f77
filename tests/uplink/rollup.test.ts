import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SystemClock } from '../../src/core/clock.js';
import { wibDay } from '../../src/core/wib.js';
import { Store } from '../../src/store/store.js';
import { HistoryRepo } from '../../src/uplink/history-repo.js';
import { counterDelta } from '../../src/uplink/interface-monitor.js';
import { decodeRounds, encodeRounds, type RawRound } from '../../src/uplink/raw-codec.js';
import { HOUR_MS, MINUTE_MS, MinuteRollup } from '../../src/uplink/rollup.js';
import type { Sample } from '../../src/uplink/track.js';
import { tempDir } from '../helpers/tmp.js';

const T0 = Date.UTC(2026, 10, 28, 3, 0, 0); // a whole hour
const sample = (wall: number, ok: boolean, latency: number | null = ok ? 10 : null): Sample => ({
  mono: wall - T0,
  wall,
  ok,
  sent: 1,
  lost: ok ? 0 : 1,
  latency_ms: latency,
  outcome: ok ? 'ok' : 'timeout',
});

describe('MinuteRollup', () => {
  it('buckets rounds by wall minute with counts, loss and RTT', () => {
    const r = new MinuteRollup();
    r.addSample('router', sample(T0 + 1000, true, 10));
    r.addSample('router', sample(T0 + 2000, true, 30));
    r.addSample('router', sample(T0 + 3000, false));
    r.addSample('router', sample(T0 + MINUTE_MS + 1, true, 5));
    const rows = r.take(T0 + MINUTE_MS + 1);
    expect(rows).toEqual([
      expect.objectContaining({
        t: T0,
        key: 'router',
        n: 3,
        ok: 2,
        sent: 3,
        lost: 1,
        rtt_sum: 40,
        rtt_n: 2,
        rtt_max: 30,
      }),
    ]);
    expect(r.size).toBe(1);
    expect(r.take()).toHaveLength(1);
  });

  it('splits state time across minute boundaries', () => {
    const r = new MinuteRollup();
    r.addState('layer:isp', 'down', T0 + MINUTE_MS + 15_000, 45_000); // 30 s in minute 0, 15 s in minute 1
    const rows = r.take().sort((a, b) => a.t - b.t);
    expect(rows.map((x) => [x.t - T0, x.down_ms])).toEqual([
      [0, 30_000],
      [MINUTE_MS, 15_000],
    ]);
  });
});

describe('HistoryRepo (real SQLite)', () => {
  let dir: ReturnType<typeof tempDir>;
  let store: Store;
  let repo: HistoryRepo;
  beforeEach(() => {
    dir = tempDir('kgw-hist-');
    store = new Store({
      dataDir: dir.path,
      log: pino({ level: 'silent' }),
      clock: new SystemClock(undefined, 'b'),
    });
    store.start();
    repo = new HistoryRepo({ db: () => store.db });
  });
  afterEach(() => {
    store.stop();
    dir.cleanup();
  });

  it('adds minute rows together (a minute flushed at stop and continued after restart)', () => {
    const a = new MinuteRollup();
    a.addSample('router', sample(T0 + 1000, true, 10));
    a.addState('link', 'up', T0 + 20_000, 20_000);
    const b = new MinuteRollup();
    b.addSample('router', sample(T0 + 40_000, false));
    b.addSample('router', sample(T0 + 41_000, true, 50));
    b.addState('link', 'down', T0 + 50_000, 10_000);
    store.batch(() => repo.addMinutes(a.take()));
    store.batch(() => repo.addMinutes(b.take()));
    const rows = repo.series('minute', T0);
    expect(rows.find((r) => r.key === 'router')).toMatchObject({
      n: 3,
      ok: 2,
      lost: 1,
      rtt_sum: 60,
      rtt_max: 50,
    });
    expect(rows.find((r) => r.key === 'link')).toMatchObject({ up_ms: 20_000, down_ms: 10_000 });
  });

  it('rolls minutes into hours idempotently and computes uptime per layer', () => {
    const r = new MinuteRollup();
    for (let m = 0; m < 60; m++)
      r.addState('layer:isp', m < 6 ? 'down' : 'up', T0 + (m + 1) * MINUTE_MS, MINUTE_MS);
    r.addState('layer:isp', 'up', T0 + HOUR_MS + MINUTE_MS, MINUTE_MS);
    store.batch(() => repo.addMinutes(r.take()));
    repo.rollupHours(T0, T0 + HOUR_MS);
    repo.rollupHours(T0, T0 + HOUR_MS); // again: same result
    const hours = repo.series('hour', T0);
    expect(hours).toEqual([
      expect.objectContaining({ t: T0, key: 'layer:isp', up_ms: 54 * MINUTE_MS, down_ms: 6 * MINUTE_MS }),
    ]);
    expect(repo.uptime(T0, T0 + HOUR_MS)).toEqual({ 'layer:isp': { up_pct: 90, measured_ms: HOUR_MS } });
  });

  it('prunes expired rows in bounded slices and keeps recent ones', () => {
    const now = T0 + 60 * 24 * HOUR_MS;
    store.batch(() => {
      for (let i = 0; i < 1200; i++) {
        repo.insertRaw([
          {
            probe: 'r',
            layer: 'lan',
            start_wall: T0 + i,
            end_wall: T0 + i,
            clock_synced: true,
            rounds: [[0, 'ok', 1]],
            extra: {},
          },
        ]);
      }
      repo.insertRaw([
        {
          probe: 'r',
          layer: 'lan',
          start_wall: now - 1000,
          end_wall: now,
          clock_synced: true,
          rounds: [[0, 'ok', 1]],
          extra: {},
        },
      ]);
      const m = new MinuteRollup();
      m.addState('link', 'up', T0 + MINUTE_MS, 1000); // 60 days old: past the 30-day minute retention
      m.addState('link', 'up', now, 1000);
      repo.addMinutes(m.take());
    });
    expect(repo.pruneSlice('uplink_raw', now, 500)).toBe(500);
    expect(repo.pruneSlice('uplink_raw', now, 500)).toBe(500);
    expect(repo.pruneSlice('uplink_raw', now, 500)).toBe(200);
    expect(repo.pruneSlice('uplink_raw', now, 500)).toBe(0);
    expect(repo.lastRawWall()).toBe(now);
    expect(repo.pruneSlice('uplink_minute', now, 500)).toBe(1);
    expect(repo.series('minute', 0)).toHaveLength(1);
  });
});

describe('interface helpers', () => {
  it('dates traffic by the WIB day', () => {
    expect(wibDay(Date.UTC(2026, 10, 28, 16, 59))).toBe('2026-11-28');
    expect(wibDay(Date.UTC(2026, 10, 28, 17, 0))).toBe('2026-11-29');
  });
  it('survives counter resets', () => {
    expect(counterDelta(null, 500)).toBe(0);
    expect(counterDelta(100, 500)).toBe(400);
    expect(counterDelta(1000, 300)).toBe(300);
  });
});

describe('raw rounds packing', () => {
  it('round-trips offsets (10 ms), outcomes and latencies (0.1 ms) in 5 bytes a round', () => {
    const rounds: RawRound[] = [
      [0, 'ok', 0.04],
      [1010, 'timeout', null],
      [2000, 'refused', 3.26],
      [3000, 'bad_response', 9999],
      [700_000, 'unreachable', null], // a gap longer than 655 s saturates, it does not wrap
    ];
    const buf = encodeRounds(rounds);
    expect(buf.length).toBe(25);
    expect(decodeRounds(buf)).toEqual([
      [0, 'ok', 0],
      [1010, 'timeout', null],
      [2000, 'refused', 3.3],
      [3000, 'bad_response', 6553.4],
      [3000 + 655_350, 'unreachable', null],
    ]);
  });

  it('keeps the fields of failed rounds next to the packed rounds', () => {
    const dir = tempDir('kgw-raw-');
    const store = new Store({
      dataDir: dir.path,
      log: pino({ level: 'silent' }),
      clock: new SystemClock(undefined, 'b'),
    });
    store.start();
    try {
      const repo = new HistoryRepo({ db: () => store.db });
      repo.insertRaw([
        {
          probe: 'dns',
          layer: 'dns',
          start_wall: T0,
          end_wall: T0 + 10_000,
          clock_synced: false,
          rounds: [
            [0, 'ok', 5],
            [10_000, 'bad_response', 4],
          ],
          extra: { 1: { rcode: 'NXDOMAIN' } },
        },
      ]);
      expect(repo.raw(T0)).toEqual([
        {
          probe: 'dns',
          layer: 'dns',
          start_wall: T0,
          end_wall: T0 + 10_000,
          clock_synced: false,
          rounds: [
            [0, 'ok', 5],
            [10_000, 'bad_response', 4],
          ],
          extra: { 1: { rcode: 'NXDOMAIN' } },
        },
      ]);
    } finally {
      store.stop();
      dir.cleanup();
    }
  });
});

describe('HistoryWriter on a full disk', () => {
  it('drops the batch with a warning and keeps going (derived data never stops monitoring)', async () => {
    const { HistoryWriter } = await import('../../src/uplink/history-writer.js');
    const dir = tempDir('kgw-full-');
    const warnings: string[] = [];
    const log = pino({ level: 'warn' }, { write: (l: string) => warnings.push(l) });
    const clock = new SystemClock(undefined, 'b');
    const store = new Store({ dataDir: dir.path, log, clock });
    store.start();
    try {
      const history = new HistoryRepo({ db: () => store.db });
      const writer = new HistoryWriter({ history, store, clock, log });
      // A real SQLITE_FULL: the database may not grow beyond the pages it has now.
      const pages = (store.db.pragma('page_count', { simple: true }) as number) + 1;
      store.db.pragma(`max_page_count = ${pages}`);
      const now = Date.now();
      for (let i = 0; i < 3000; i++)
        writer.addSample('router', 'lan', sample(now - 3000 + i, i % 2 === 0, 1.5), { x: 'y'.repeat(50) });
      expect(() => writer.flush(true)).not.toThrow();
      expect(warnings.join('')).toMatch(/uplink history write failed/);
      // Space again: the next flush works.
      store.db.pragma('max_page_count = 1073741823');
      writer.addSample('router', 'lan', sample(now, true), {});
      writer.flush(true);
      expect(repoCount(store)).toBe(1);
    } finally {
      store.stop();
      dir.cleanup();
    }
  });
});

function repoCount(store: Store): number {
  return (store.db.prepare('SELECT COUNT(*) AS n FROM uplink_raw').get() as { n: number }).n;
}
