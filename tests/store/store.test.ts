import { closeSync, existsSync, openSync, readdirSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { isGwError } from '../../src/core/errors.js';
import { AlertsRepo } from '../../src/store/alerts-repo.js';
import { migrate } from '../../src/store/migrate.js';
import type { Migration } from '../../src/store/migrations/types.js';
import { DB_FILE, PAGE_SIZE, Store } from '../../src/store/store.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { memoryLogger } from '../helpers/test-log.js';
import { tempDir } from '../helpers/tmp.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

function newStore(dir?: string) {
  const t = dir ? { path: dir, cleanup: () => undefined } : tempDir('kgw-store-');
  cleanups.push(t.cleanup);
  const { log, lines } = memoryLogger();
  const store = new Store({ dataDir: t.path, log, clock: new FakeClock() });
  return { store, dir: t.path, lines };
}

describe('Store', () => {
  it('opens in WAL mode, applies the migrations and records user_version', () => {
    const { store } = newStore();
    store.start();
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(store.db.pragma('synchronous', { simple: true })).toBe(1); // NORMAL
    expect(store.db.pragma('user_version', { simple: true })).toBeGreaterThanOrEqual(1);
    expect(store.ping()).toBe(true);
    store.stop();
  });

  it('creates its database with 1 KiB pages, and opens one made with 4 KiB pages as it is', () => {
    const fresh = newStore();
    fresh.store.start();
    expect(PAGE_SIZE).toBe(1024);
    expect(fresh.store.db.pragma('page_size', { simple: true })).toBe(1024);
    fresh.store.stop();

    // A box installed before: its database has SQLite's default 4 KiB pages and data in it.
    const older = newStore();
    const db = new BetterSqlite3(join(older.dir, DB_FILE));
    db.pragma('page_size = 4096');
    db.pragma('journal_mode = WAL');
    db.exec("CREATE TABLE keep (v TEXT); INSERT INTO keep VALUES ('dari dulu')");
    db.close();
    older.store.start();
    expect(older.store.db.pragma('page_size', { simple: true })).toBe(4096);
    expect(older.store.db.prepare('SELECT v FROM keep').get()).toEqual({ v: 'dari dulu' });
    expect(older.store.db.pragma('integrity_check', { simple: true })).toBe('ok');
    older.store.stop();
  });

  it('commits durable() transactions at synchronous=FULL and returns to NORMAL', () => {
    const { store } = newStore();
    store.start();
    let inside = -1;
    store.durable(() => {
      inside = store.db.pragma('synchronous', { simple: true }) as number;
      store.db.prepare("INSERT INTO meta (key, value) VALUES ('k', 'v')").run();
    });
    expect(inside).toBe(2); // FULL
    expect(store.db.pragma('synchronous', { simple: true })).toBe(1);
    expect(() =>
      store.durable(() => {
        store.db.prepare("INSERT INTO meta (key, value) VALUES ('k2', 'v')").run();
        throw new Error('rollback');
      }),
    ).toThrow('rollback');
    expect(store.db.prepare("SELECT COUNT(*) AS n FROM meta WHERE key = 'k2'").get()).toEqual({ n: 0 });
    expect(store.db.pragma('synchronous', { simple: true })).toBe(1);
    store.stop();
  });

  it('quarantines a file with overwritten bytes, starts fresh and records an alert', () => {
    const { store, dir } = newStore();
    store.start();
    store.db.prepare("INSERT INTO meta (key, value) VALUES ('before', 'x')").run();
    store.stop();
    // Overwrite the header and the first pages with garbage.
    const fd = join(dir, DB_FILE);
    const buf = Buffer.alloc(8192, 0x5a);
    writeFileSync(fd, buf, { flag: 'r+' });

    const again = newStore(dir);
    again.store.start();
    expect(again.store.quarantined?.file).toMatch(/gateway\.db\.corrupt-\d{8}T\d{6}Z$/);
    expect(existsSync(again.store.quarantined!.file)).toBe(true);
    const alerts = new AlertsRepo({ db: () => again.store.db, clock: new FakeClock() }).recent();
    expect(alerts.map((a) => a.code)).toEqual(['db_quarantined']);
    expect(alerts[0]?.severity).toBe('critical');
    expect(again.store.db.prepare("SELECT COUNT(*) AS n FROM meta WHERE key = 'before'").get()).toEqual({
      n: 0,
    });
    expect(again.lines().some((l) => l.msg === 'database damaged: moved aside, starting fresh')).toBe(true);
    again.store.stop();
  });

  it('quarantines a database whose inner pages were overwritten', () => {
    const { store, dir } = newStore();
    store.start();
    store.db.exec('CREATE TABLE filler (n INTEGER PRIMARY KEY, pad TEXT)');
    const ins = store.db.prepare('INSERT INTO filler (pad) VALUES (?)');
    store.batch(() => {
      for (let i = 0; i < 2000; i++) ins.run(`row-${i}-${'x'.repeat(100)}`);
    });
    store.stop();
    // Header intact, but a stretch of b-tree pages in the middle is garbage.
    const fh = openSync(join(dir, DB_FILE), 'r+');
    writeSync(fh, Buffer.alloc(3 * 4096, 0xa5), 0, 3 * 4096, 20 * 4096);
    closeSync(fh);
    const again = newStore(dir);
    again.store.start();
    expect(again.store.quarantined).toBeDefined();
    expect(again.store.db.pragma('integrity_check', { simple: true })).toBe('ok');
    again.store.stop();
  });

  it('quarantines a file that is not a database at all, keeping at most three', () => {
    const t = tempDir('kgw-store-');
    cleanups.push(t.cleanup);
    const clock = new FakeClock();
    for (let i = 0; i < 5; i++) {
      writeFileSync(join(t.path, DB_FILE), `not a database ${i}`.repeat(100));
      clock.advance(1000);
      const store = new Store({ dataDir: t.path, log: memoryLogger().log, clock });
      store.start();
      expect(store.quarantined).toBeDefined();
      store.stop();
    }
    expect(readdirSync(t.path).filter((f) => f.includes('.corrupt-'))).toHaveLength(3);
  });

  it('opens read-only without migrating or creating anything', () => {
    const { store, dir } = newStore();
    const ro = new Store({ dataDir: dir, log: memoryLogger().log, clock: new FakeClock(), readonly: true });
    expect(() => ro.start()).toThrow();
    store.start();
    store.stop();
    ro.start();
    expect(() => ro.db.prepare("INSERT INTO meta (key, value) VALUES ('a','b')").run()).toThrow(/readonly/);
    ro.stop();
  });
});

describe('migrate', () => {
  const mk = (version: number, sql: string): Migration => ({
    version,
    name: `m${version}`,
    up: (db) => db.exec(sql),
  });

  it('applies only pending migrations, in one transaction', () => {
    const db = new BetterSqlite3(':memory:');
    expect(migrate(db, [mk(1, 'CREATE TABLE a (x)')])).toEqual([1]);
    expect(migrate(db, [mk(1, 'CREATE TABLE a (x)'), mk(3, 'CREATE TABLE c (x)')])).toEqual([3]);
    expect(db.pragma('user_version', { simple: true })).toBe(3);
    // A failing migration leaves nothing half-done.
    expect(() =>
      migrate(db, [mk(1, ''), mk(3, ''), mk(4, 'CREATE TABLE d (x)'), mk(5, 'CREATE TABLE broken (')]),
    ).toThrow();
    expect(db.pragma('user_version', { simple: true })).toBe(3);
    expect(db.prepare("SELECT COUNT(*) AS n FROM sqlite_master WHERE name = 'd'").get()).toEqual({ n: 0 });
  });

  it('refuses a database from a newer version and an out-of-order list', () => {
    const db = new BetterSqlite3(':memory:');
    db.pragma('user_version = 9');
    try {
      migrate(db, [mk(1, '')]);
      expect.unreachable();
    } catch (err) {
      expect(isGwError(err, 'GW_ERR_STORE_MIGRATION')).toBe(true);
    }
    expect(() => migrate(new BetterSqlite3(':memory:'), [mk(2, ''), mk(1, '')])).toThrow(/order/);
  });
});
