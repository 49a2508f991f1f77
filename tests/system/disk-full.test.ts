import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SystemClock } from '../../src/core/clock.js';
import { isDiskFull } from '../../src/core/errors.js';
import { createLogger } from '../../src/core/logger.js';
import { AlertsRepo } from '../../src/store/alerts-repo.js';
import { Store } from '../../src/store/store.js';
import { DiskGuard } from '../../src/system/disk-guard.js';
import { buildServer } from '../../src/web/build-server.js';
import { TestDaemon } from '../helpers/daemon.js';
import { parseProm } from './prom-parse.js';
import { SmallDisk } from './tmpfs.js';

const log = createLogger({ level: 'fatal' });
const bigDetails = { blob: 'x'.repeat(64 * 1024) };

describe('disk full: the store refuses acknowledged writes cleanly (507) and recovers', () => {
  const disk = new SmallDisk(8);
  let store: Store;

  beforeAll(() => {
    disk.mount();
    store = new Store({ dataDir: join(disk.path, 'data'), log, clock: new SystemClock() });
    store.start();
  });

  afterAll(() => {
    store?.stop();
    disk.dispose();
  });

  it('a durable write on a full disk fails with SQLITE_FULL, maps to 507, healthz still answers', async () => {
    const alerts = new AlertsRepo({ db: () => store.db, clock: new SystemClock() });
    const guard = new DiskGuard({ floorBytes: 2 * 1024 * 1024 });
    guard.update(disk.freeBytes());
    const app = buildServer({ log, dbOk: () => store.ping(), onDiskFull: () => guard.noteFull() });
    // The acknowledged write path under test: the same store.durable() every module uses,
    // behind the guard's up-front check.
    app.post('/test/ack', async (_req, reply) => {
      guard.requireDurable();
      const id = store.durable(() => alerts.add('test_ack', 'info', 'acknowledged write', bigDetails));
      return reply.code(202).send({ id });
    });
    const before = (await app.inject({ method: 'POST', url: '/test/ack' })).statusCode;
    expect(before).toBe(202);
    const acknowledged = store.db
      .prepare("SELECT count(*) AS n FROM alerts WHERE code = 'test_ack'")
      .get() as {
      n: number;
    };

    disk.fill(0);
    let failed: unknown;
    let refused = 0;
    for (let i = 0; i < 40 && refused === 0; i++) {
      const res = await app.inject({ method: 'POST', url: '/test/ack' });
      if (res.statusCode === 507) {
        refused++;
        expect(res.json()).toEqual({ error: 'GW_ERR_STORE_FULL', message: expect.any(String) });
      } else expect(res.statusCode).toBe(202);
    }
    expect(refused).toBe(1);
    // The failure told the guard: the next acknowledged write is refused before it starts.
    expect(guard.canAcceptDurable()).toBe(false);
    expect((await app.inject({ method: 'POST', url: '/test/ack' })).statusCode).toBe(507);
    try {
      store.durable(() => alerts.add('direct', 'info', 'x', bigDetails));
    } catch (err) {
      failed = err;
    }
    expect(isDiskFull(failed)).toBe(true);
    const health = await app.inject({ method: 'GET', url: '/healthz' });
    expect(health.statusCode).toBe(200);
    // Whatever was acknowledged before is still there; the refused write left nothing half-done.
    const n = (
      store.db.prepare("SELECT count(*) AS n FROM alerts WHERE code = 'test_ack'").get() as { n: number }
    ).n;
    expect(n).toBeGreaterThanOrEqual(acknowledged.n);
    expect((store.db.pragma('quick_check') as Array<{ quick_check: string }>)[0]?.quick_check).toBe('ok');

    disk.drain();
    guard.update(disk.freeBytes());
    expect(guard.canAcceptDurable()).toBe(true);
    const after = await app.inject({ method: 'POST', url: '/test/ack' });
    expect(after.statusCode).toBe(202);
    await app.close();
  });
});

describe('disk full: the daemon stays up, shows it, and recovers by itself', () => {
  const disk = new SmallDisk(24);
  let daemon: TestDaemon;

  beforeAll(async () => {
    disk.mount();
    daemon = await TestDaemon.start({
      config: { data_dir: join(disk.path, 'data'), system: { disk_floor_mb: 6, health_interval_s: 5 } },
    });
  });

  afterAll(async () => {
    await daemon?.dispose();
    disk.dispose();
  });

  const diskState = async () => {
    const res = await fetch(`${daemon.url}/metrics`);
    const fam = parseProm(await res.text()).get('kampung_system_disk_state');
    return fam?.samples.find((s) => s.value === 1)?.labels.state;
  };
  const waitState = async (want: string, ms = 12_000) => {
    const deadline = Date.now() + ms;
    let got: string | undefined;
    while (Date.now() < deadline) {
      got = await diskState();
      if (got === want) return got;
      await new Promise((r) => setTimeout(r, 250));
    }
    return got;
  };

  it('goes low, then full, keeps answering, then recovers and records it all', async () => {
    expect(await waitState('ok')).toBe('ok');
    disk.fill(3 * 1024 * 1024);
    expect(await waitState('low')).toBe('low');
    expect((await fetch(`${daemon.url}/healthz`)).status).toBe(200);

    disk.fill(0);
    expect(await waitState('full')).toBe('full');
    const health = await fetch(`${daemon.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ ok: true, db: true, version: expect.any(String) });
    expect(daemon.proc?.exitCode).toBeNull();

    disk.drain();
    expect(await waitState('ok')).toBe('ok');
    await daemon.stop();
    const db = new BetterSqlite3(join(disk.path, 'data', 'gateway.db'), { readonly: true });
    try {
      const codes = db.prepare('SELECT code, details FROM alerts ORDER BY id').all() as Array<{
        code: string;
        details: string;
      }>;
      const seq = codes
        .filter((c) => c.code.startsWith('disk_'))
        .map((c) => `${c.code}:${JSON.parse(c.details).state}`);
      expect(seq).toEqual(
        expect.arrayContaining([
          'disk_low:raised',
          'disk_full:raised',
          'disk_full:cleared',
          'disk_low:cleared',
        ]),
      );
      expect((db.pragma('quick_check') as Array<{ quick_check: string }>)[0]?.quick_check).toBe('ok');
    } finally {
      db.close();
    }
  }, 60_000);
});
