import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { validateRegencyConfigText } from '../../src/regency/config.js';
import { RegencyMigrations } from '../../src/regency/store/migrations.js';
import { openRegencyDb, SQLITE_FILE } from '../../src/regency/store/open-db.js';
import { tempDir } from '../helpers/tmp.js';
import { DIALECTS, regencyConfig, TestStore } from './helpers.js';

describe.each(DIALECTS)('migration 011 after a kill between its two columns (%s store)', (dialect) => {
  const tmp = tempDir('kgw-mig011-');
  const store = new TestStore(dialect, tmp.path);

  beforeAll(async () => {
    await store.create();
  });

  afterAll(async () => {
    await store.drop();
    tmp.cleanup();
  });

  it('a store left with grace_until_ms but no retired_ms migrates on the next start', async () => {
    let db: Kysely<unknown>;
    if (dialect === 'sqlite') {
      mkdirSync(store.dataDir, { recursive: true });
      db = new Kysely({
        dialect: new SqliteDialect({ database: new Database(join(store.dataDir, SQLITE_FILE)) }),
      });
    } else
      db = new Kysely({
        dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: store.url }) }),
      });
    const migrator = new Migrator({ db, provider: new RegencyMigrations(dialect) });
    expect((await migrator.migrateTo('010-client-certs')).error).toBeUndefined();
    // SQLite runs the migration's DDL outside a transaction: a kill after its first ALTER.
    await db.schema.alterTable('broker_credentials').addColumn('grace_until_ms', 'bigint').execute();
    await db.destroy();

    const r = validateRegencyConfigText(
      stringify(regencyConfig(store, 'mqtt://127.0.0.1:1')),
      join(tmp.path, 'r.yaml'),
    );
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    const opened = await openRegencyDb(r.config, pino({ level: 'silent' }));
    try {
      const table = (await opened.db.introspection.getTables()).find((t) => t.name === 'broker_credentials');
      const columns = table?.columns.map((c) => c.name) ?? [];
      expect(columns).toEqual(expect.arrayContaining(['grace_until_ms', 'retired_ms']));
    } finally {
      await opened.db.destroy();
    }
  });
});
