import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { readSecretFile } from '../../config/loader.js';
import { GwError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { RegencyConfig } from '../config-schema.js';
import { RegencyMigrations } from './migrations.js';
import type { Dialect, RegencyTables } from './schema.js';
import { keepStatements } from './statement-cache.js';

export interface OpenedDb {
  db: Kysely<RegencyTables>;
  dialect: Dialect;
  /** Where it is, for logs: the SQLite file or the PostgreSQL URL without credentials. */
  where: string;
  /** SQLite: the handle under `db`, for the collector's commits (store/ingest-sqlite.ts). */
  sqlite?: Database.Database;
}

export const SQLITE_FILE = 'regency.db';

// int8 and numeric arrive from PostgreSQL as strings; every such value here (counts, ms,
// seqs) fits a double exactly, so both dialects hand the same JS numbers to the code.
const PG_NUMBER_TYPES = new Set([20, 1700]);
const pgTypes = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (PG_NUMBER_TYPES.has(oid) && format !== 'binary') return (v: string) => Number(v);
    return pg.types.getTypeParser(oid, format);
  },
} as pg.CustomTypesConfig;

/**
 * Opens the store the config names: embedded SQLite in data_dir (WAL, synchronous=FULL: a
 * commit is on disk before the collector acknowledges), or PostgreSQL when database.url is
 * set (password from database.password_file). Runs the migrations before returning.
 */
export async function openRegencyDb(config: RegencyConfig, log: Logger): Promise<OpenedDb> {
  const opened = config.database.url === '' ? openSqlite(config.data_dir) : openPostgres(config, log);
  try {
    await migrate(opened.db, opened.dialect);
  } catch (err) {
    await opened.db.destroy().catch(() => undefined);
    throw err;
  }
  return opened;
}

function openSqlite(dataDir: string): OpenedDb {
  const file = join(dataDir, SQLITE_FILE);
  let sqlite: Database.Database;
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o750 });
    sqlite = new Database(file);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = FULL');
    // The CLI (`regency user`, `regency status`) may write while the collector runs.
    sqlite.pragma('busy_timeout = 5000');
    sqlite.pragma('foreign_keys = ON');
  } catch (err) {
    throw new GwError('GW_ERR_STORE_OPEN', `cannot open ${file}`, { cause: err });
  }
  return {
    db: new Kysely<RegencyTables>({ dialect: new SqliteDialect({ database: keepStatements(sqlite) }) }),
    dialect: 'sqlite',
    where: file,
    sqlite,
  };
}

function openPostgres(config: RegencyConfig, log: Logger): OpenedDb {
  const url = new URL(config.database.url);
  const password = config.database.password_file ? readSecretFile(config.database.password_file) : undefined;
  const pool = new pg.Pool({
    connectionString: config.database.url,
    ...(password === undefined ? {} : { password }),
    types: pgTypes,
    max: 4,
    connectionTimeoutMillis: 10_000,
  });
  // An idle client losing its server is reported here; the next query gets a fresh one.
  pool.on('error', (err) => log.warn({ err }, 'idle database connection lost'));
  url.password = '';
  return {
    db: new Kysely<RegencyTables>({ dialect: new PostgresDialect({ pool }) }),
    dialect: 'postgres',
    where: url.toString(),
  };
}

async function migrate(db: Kysely<RegencyTables>, dialect: Dialect): Promise<void> {
  const migrator = new Migrator({ db, provider: new RegencyMigrations(dialect) });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    throw new GwError('GW_ERR_STORE_MIGRATION', `regency migration ${failed ?? '(unknown)'} failed`, {
      cause: error,
    });
  }
}
