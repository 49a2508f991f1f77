import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestDaemon } from '../helpers/daemon.js';
import { faketimeOffset } from '../helpers/faketime.js';
import { tempDir } from '../helpers/tmp.js';
import { parseProm } from './prom-parse.js';

const LIBFAKETIME = '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1';
const DAY_S = 86_400;

/**
 * The daemon runs under libfaketime with a timestamp file, so the test moves its wall clock
 * while it runs (time namespaces cannot move CLOCK_REALTIME). The monotonic clock is left
 * alone (FAKETIME_DONT_FAKE_MONOTONIC), as on a real box where NTP or `date -s` steps time.
 */
describe.skipIf(!existsSync(LIBFAKETIME))('clock jumps under libfaketime', () => {
  const tmp = tempDir('kgw-jump-');
  const offsetFile = join(tmp.path, 'faketime');
  const syncFlag = join(tmp.path, 'synchronized');
  let daemon: TestDaemon;

  const setOffset = (deltaS: number) => writeFileSync(offsetFile, `${faketimeOffset(deltaS)}\n`);
  const scrape = async () => {
    const res = await fetch(`${daemon.url}/metrics`);
    expect(res.status).toBe(200);
    const f = parseProm(await res.text());
    const v = (n: string) => f.get(n)?.samples[0]?.value;
    return {
      lastJump: v('kampung_clock_last_jump_seconds'),
      jumps: v('kampung_clock_jumps_total') ?? 0,
      synced: v('kampung_clock_synced'),
      collections: v('kampung_system_health_collections_total') ?? 0,
    };
  };
  const until = async <T>(fn: () => Promise<T>, ok: (v: T) => boolean, ms = 15_000): Promise<T> => {
    const deadline = Date.now() + ms;
    let v = await fn();
    while (!ok(v) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      v = await fn();
    }
    return v;
  };

  beforeAll(async () => {
    setOffset(0);
    daemon = await TestDaemon.start({
      dir: join(tmp.path, 'gw'),
      config: {
        system: {
          health_interval_s: 5,
          clock_check_interval_s: 1,
          clock_jump_threshold_s: 2,
          timesync_flag: syncFlag,
        },
      },
      env: {
        LD_PRELOAD: LIBFAKETIME,
        // The file, not the runner's own FAKETIME (test:future), sets this daemon's offset.
        FAKETIME: undefined,
        FAKETIME_SHARED: undefined,
        FAKETIME_TIMESTAMP_FILE: offsetFile,
        FAKETIME_NO_CACHE: '1',
        FAKETIME_DONT_FAKE_MONOTONIC: '1',
        FAKETIME_DONT_RESET: '1',
      },
    });
  });

  afterAll(async () => {
    await daemon?.dispose();
    tmp.cleanup();
  });

  it('libfaketime really moves the daemon wall clock (sanity)', async () => {
    setOffset(-DAY_S);
    const back = await until(scrape, (m) => m.jumps >= 1);
    expect(back.lastJump).toBeLessThan(-DAY_S + 10);
    setOffset(0);
    const fwd = await until(scrape, (m) => m.jumps >= 2);
    expect(fwd.lastJump).toBeGreaterThan(DAY_S - 10);
  });

  it('records −3 weeks and +5 years jumps; timers keep cadence; the daemon keeps answering', async () => {
    const start = await scrape();
    const t0 = Date.now();

    setOffset(-21 * DAY_S);
    const back = await until(scrape, (m) => m.jumps > start.jumps);
    expect(back.lastJump).toBeLessThan(-21 * DAY_S + 10);
    expect(back.lastJump).toBeGreaterThan(-21 * DAY_S - 10);
    expect((await fetch(`${daemon.url}/healthz`)).status).toBe(200);

    setOffset(5 * 365 * DAY_S);
    const fwd = await until(scrape, (m) => m.jumps > back.jumps);
    expect(fwd.lastJump).toBeGreaterThan(5 * 365 * DAY_S);
    expect((await fetch(`${daemon.url}/healthz`)).status).toBe(200);

    // Let the 5 s health task run a few times in the far future: no storm, no stall.
    await new Promise((r) => setTimeout(r, 11_000));
    const mid = await scrape();
    const elapsedS = (Date.now() - t0) / 1000;
    const ran = mid.collections - start.collections;
    expect(ran).toBeGreaterThanOrEqual(Math.floor(elapsedS / 5) - 2);
    expect(ran).toBeLessThanOrEqual(Math.ceil(elapsedS / 5) + 2);
    expect(mid.synced).toBe(0);

    // NTP fixes the clock: back to real time, and timesyncd's flag appears.
    setOffset(0);
    writeFileSync(syncFlag, '');
    const synced = await until(scrape, (m) => m.synced === 1);
    expect(synced.synced).toBe(1);
    expect(daemon.proc?.exitCode).toBeNull();

    const db = new BetterSqlite3(join(daemon.dataDir, 'gateway.db'), { readonly: true });
    try {
      const rows = db
        .prepare(
          "SELECT code, at_wall, clock_synced, restamped, details FROM alerts WHERE code IN ('clock_jump', 'clock_synced') ORDER BY id",
        )
        .all() as Array<{
        code: string;
        at_wall: number;
        clock_synced: number;
        restamped: number;
        details: string;
      }>;
      const jumps = rows.filter((r) => r.code === 'clock_jump');
      expect(jumps.length).toBeGreaterThanOrEqual(4);
      const sizes = jumps.map((r) => (JSON.parse(r.details) as { jump_s: number }).jump_s);
      expect(sizes.some((s) => Math.abs(s + 21 * DAY_S) < 10)).toBe(true);
      expect(sizes.some((s) => s > 5 * 365 * DAY_S)).toBe(true);
      // Every jump row was made unsynced and has been re-stamped to real time (within seconds),
      // although it was first written with a wall clock weeks or years off.
      for (const r of jumps) {
        expect(r.clock_synced).toBe(1);
        expect(r.restamped).toBe(1);
        expect(Math.abs(r.at_wall - Date.now())).toBeLessThan(120_000);
      }
      expect(rows.some((r) => r.code === 'clock_synced')).toBe(true);
    } finally {
      db.close();
    }
  }, 90_000);
});
