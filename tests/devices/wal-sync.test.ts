import { readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, expect, it } from 'vitest';
import { WalSync } from '../../src/devices/wal-sync.js';
import { tempDir } from '../helpers/tmp.js';

const tmp = tempDir('kgw-walsync-');
afterAll(() => tmp.cleanup());

function openDb(path: string) {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec('CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v TEXT)');
  return db;
}

/** Paths our process holds open under the temp dir (from /proc/self/fd). */
function openFiles(): string[] {
  return readdirSync('/proc/self/fd').flatMap((fd) => {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      return target.includes(tmp.path) ? [target] : [];
    } catch {
      return [];
    }
  });
}

it('concurrent callers share fsyncs; each resolves after one that started after its call', async () => {
  const path = join(tmp.path, 'a.db');
  let db = openDb(path);
  const wal = new WalSync(path);
  db.prepare('INSERT INTO t (v) VALUES (?)').run('x');
  await Promise.all(Array.from({ length: 10 }, () => wal.sync()));
  // The first call starts an fsync; the nine arriving meanwhile share the next one.
  expect(wal.syncs).toBeLessThanOrEqual(2);
  expect(wal.syncs).toBeGreaterThanOrEqual(1);

  // The store closing deletes the WAL; a reopen makes a new file. The old inode must not be
  // what gets fsynced afterwards.
  db.close();
  db = openDb(path);
  db.prepare('INSERT INTO t (v) VALUES (?)').run('y');
  await wal.sync();
  expect(openFiles().filter((f) => f.endsWith('(deleted)'))).toEqual([]);
  expect(openFiles().filter((f) => f.endsWith('a.db-wal'))).toHaveLength(2); // SQLite's and ours
  await wal.close();
  db.close();
});

it('a missing WAL is an error for the waiting callers, not a silent success', async () => {
  const wal = new WalSync(join(tmp.path, 'nothing.db'));
  await expect(wal.sync()).rejects.toThrow(/ENOENT/);
  await wal.close();
});
