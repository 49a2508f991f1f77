import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { DB_FILE } from '../store/store.js';
import { copyFresh, fsyncDir } from './durable-fs.js';

const SNAP_DB = DB_FILE;
const SNAP_CONFIG = 'config.yaml';

/** PRAGMA user_version of a database file, or null when there is none. */
export function schemaOf(dbPath: string): number | null {
  if (!existsSync(dbPath)) return null;
  const db = new BetterSqlite3(dbPath, { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    return db.pragma('user_version', { simple: true }) as number;
  } finally {
    db.close();
  }
}

/**
 * A consistent copy of the live database (the daemon keeps running and writing: VACUUM INTO
 * reads one transaction's view through the WAL, unlike a copy of the file) and of the config,
 * into snapDir, written as snapDir.tmp and renamed. Returns the snapshot's schema version
 * (null: no database yet).
 */
export function takeSnapshot(o: { dataDir: string; configPath: string; snapDir: string }): number | null {
  const tmp = `${o.snapDir}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true, mode: 0o700 });
  const live = join(o.dataDir, DB_FILE);
  let schema: number | null = null;
  if (existsSync(live)) {
    const db = new BetterSqlite3(live, { fileMustExist: true });
    try {
      db.pragma('busy_timeout = 5000');
      db.prepare('VACUUM INTO ?').run(join(tmp, SNAP_DB));
    } finally {
      db.close();
    }
    schema = schemaOf(join(tmp, SNAP_DB));
  }
  if (existsSync(o.configPath)) copyFileSync(o.configPath, join(tmp, SNAP_CONFIG));
  fsyncDir(tmp);
  rmSync(o.snapDir, { recursive: true, force: true });
  renameSync(tmp, o.snapDir);
  fsyncDir(dirname(o.snapDir));
  return schema;
}

/**
 * Puts the snapshot back while the service is stopped: the WAL and shared-memory files go
 * first (a WAL left beside the restored file would be replayed onto it), then the copy,
 * written beside the database and renamed over it. Idempotent: a resume does it again.
 * The config goes back too when the new version's install changed it.
 */
export function restoreSnapshot(o: { dataDir: string; configPath: string; snapDir: string }): void {
  const snapDb = join(o.snapDir, SNAP_DB);
  if (existsSync(snapDb)) {
    const live = join(o.dataDir, DB_FILE);
    for (const suffix of ['-wal', '-shm', '-journal']) rmSync(`${live}${suffix}`, { force: true });
    fsyncDir(o.dataDir);
    const tmp = join(o.dataDir, `.${DB_FILE}.restore`);
    // Run as root by the upgrade unit in a folder the daemon's user owns: a fresh file (no
    // planted symlink followed), handed to the daemon by fchown on the open file.
    const dir = statSync(o.dataDir);
    copyFresh(snapDb, tmp, 0o640, process.getuid?.() === 0 ? { uid: dir.uid, gid: dir.gid } : undefined);
    renameSync(tmp, live);
    fsyncDir(o.dataDir);
  }
  const snapConfig = join(o.snapDir, SNAP_CONFIG);
  if (existsSync(snapConfig) && !sameBytes(snapConfig, o.configPath)) {
    const tmp = join(dirname(o.configPath), `.${basename(o.configPath)}.restore`);
    copyFresh(snapConfig, tmp, existsSync(o.configPath) ? statSync(o.configPath).mode & 0o777 : 0o640);
    renameSync(tmp, o.configPath);
    fsyncDir(dirname(o.configPath));
  }
}

function sameBytes(a: string, b: string): boolean {
  try {
    return readFileSync(a).equals(readFileSync(b));
  } catch {
    return false;
  }
}
