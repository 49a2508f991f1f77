import { mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3, { type Database } from 'better-sqlite3';
import type { Clock } from '../core/clock.js';
import { GwError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { Service } from '../core/service.js';
import { AlertsRepo } from './alerts-repo.js';
import { migrate } from './migrate.js';
import { MIGRATIONS } from './migrations/index.js';
import type { Migration } from './migrations/types.js';

export const DB_FILE = 'gateway.db';
const KEEP_QUARANTINED = 3;

export interface Quarantine {
  file: string;
  reason: string;
}

export interface StoreOptions {
  dataDir: string;
  log: Logger;
  clock: Clock;
  migrations?: readonly Migration[];
  /** Open read-only (for `kampung-gw status`): no migration, no quarantine. */
  readonly?: boolean;
}

/** The page size of a database the daemon creates. */
export const PAGE_SIZE = 1024;

/**
 * The SQLite database in data_dir. WAL mode; `synchronous=NORMAL` by default (a crash
 * loses nothing committed, a power cut may lose the last few commits of derived data);
 * `durable()` commits with `synchronous=FULL`, fsyncing the WAL before it returns, for
 * everything the daemon acknowledges. See docs/storage.md.
 */
export class Store implements Service {
  readonly name = 'store';
  private readonly options: StoreOptions;
  private handle: Database | undefined;
  private quarantine: Quarantine | undefined;

  constructor(options: StoreOptions) {
    this.options = options;
  }

  get db(): Database {
    if (!this.handle) throw new GwError('GW_ERR_STORE_OPEN', 'store is not open');
    return this.handle;
  }

  get path(): string {
    return join(this.options.dataDir, DB_FILE);
  }

  /** Set when start() found a damaged database and moved it aside. */
  get quarantined(): Quarantine | undefined {
    return this.quarantine;
  }

  start(): void {
    if (this.options.readonly) {
      this.handle = new BetterSqlite3(this.path, { readonly: true, fileMustExist: true });
      this.handle.pragma('busy_timeout = 2000');
      return;
    }
    mkdirSync(this.options.dataDir, { recursive: true, mode: 0o750 });
    try {
      this.handle = this.openChecked();
    } catch (err) {
      if (!isCorruption(err))
        throw new GwError('GW_ERR_STORE_OPEN', `cannot open ${this.path}`, { cause: err });
      this.quarantine = this.moveAside(err);
      this.handle = this.openChecked();
    }
    migrate(this.handle, this.options.migrations ?? MIGRATIONS);
    if (this.quarantine) this.recordQuarantine(this.quarantine);
  }

  stop(): void {
    const db = this.handle;
    if (!db) return;
    this.handle = undefined;
    if (!this.options.readonly) {
      try {
        db.pragma('optimize');
        db.pragma('wal_checkpoint(TRUNCATE)');
      } catch (err) {
        this.options.log.warn({ err }, 'checkpoint at stop failed');
      }
    }
    db.close();
  }

  /** Runs fn in one transaction committed with fsync (synchronous=FULL). For acknowledged data. */
  durable<T>(fn: () => T): T {
    const db = this.db;
    db.pragma('synchronous = FULL');
    try {
      return db.transaction(fn).immediate();
    } finally {
      db.pragma('synchronous = NORMAL');
    }
  }

  /** Runs fn in one transaction at synchronous=NORMAL: batches of derived or re-creatable data. */
  batch<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  /** Cheap liveness check for the watchdog and /healthz. */
  ping(): boolean {
    return (this.db.prepare('SELECT 1 AS ok').get() as { ok: number }).ok === 1;
  }

  private openChecked(): Database {
    const db = new BetterSqlite3(this.path);
    try {
      // 1 KiB pages (SQLite's default is 4 KiB). At idle a commit is mostly the last page of
      // each table touched, each holding a few new small rows; the WAL frames of a commit lie
      // side by side, so 1 KiB frames share the SD card's 4 KiB blocks where 4 KiB frames take
      // one block each (docs/storage.md "Sparing the SD card"). A page size only applies to a
      // database being created: an existing one keeps its own, and this is a no-op there.
      db.pragma(`page_size = ${PAGE_SIZE}`);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
      db.pragma('busy_timeout = 5000');
      db.pragma('trusted_schema = OFF');
      db.pragma('temp_store = MEMORY');
      // Small page cache for the memory target; the WAL is truncated back after checkpoints.
      db.pragma('cache_size = -2048');
      db.pragma('journal_size_limit = 8388608');
      const rows = db.pragma('quick_check') as Array<{ quick_check: string }>;
      if (rows.length !== 1 || rows[0]?.quick_check !== 'ok') {
        throw Object.assign(new Error(`quick_check: ${rows.map((r) => r.quick_check).join('; ')}`), {
          code: 'SQLITE_CORRUPT',
        });
      }
      return db;
    } catch (err) {
      db.close();
      throw err;
    }
  }

  private moveAside(err: unknown): Quarantine {
    const stamp = new Date(this.options.clock.wallMs())
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\..*/, 'Z');
    const target = `${this.path}.corrupt-${stamp}`;
    renameSync(this.path, target);
    for (const suffix of ['-wal', '-shm']) rmSync(`${this.path}${suffix}`, { force: true });
    this.pruneQuarantined();
    const reason = err instanceof Error ? err.message : String(err);
    this.options.log.error({ err, quarantinedAs: target }, 'database damaged: moved aside, starting fresh');
    return { file: target, reason };
  }

  private pruneQuarantined(): void {
    const old = readdirSync(this.options.dataDir)
      .filter((f) => f.startsWith(`${DB_FILE}.corrupt-`))
      .sort()
      .reverse()
      .slice(KEEP_QUARANTINED);
    for (const f of old) rmSync(join(this.options.dataDir, f), { force: true });
  }

  private recordQuarantine(q: Quarantine): void {
    const alerts = new AlertsRepo({ db: () => this.db, clock: this.options.clock });
    this.durable(() =>
      alerts.add('db_quarantined', 'critical', 'database was damaged and replaced by an empty one', { ...q }),
    );
  }
}

function isCorruption(err: unknown): boolean {
  const code = (err as { code?: string } | null)?.code ?? '';
  return code.startsWith('SQLITE_CORRUPT') || code.startsWith('SQLITE_NOTADB');
}
