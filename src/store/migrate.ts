import type { Database } from 'better-sqlite3';
import { GwError } from '../core/errors.js';
import type { Migration } from './migrations/types.js';

/**
 * Applies every pending migration in one transaction: a power cut halfway leaves the schema
 * as it was. Returns the versions applied.
 */
export function migrate(db: Database, migrations: readonly Migration[]): number[] {
  migrations.forEach((m, i) => {
    const prev = migrations[i - 1];
    if (prev && m.version <= prev.version) throw new Error(`migration list out of order at ${m.name}`);
  });
  const latest = migrations[migrations.length - 1]?.version ?? 0;
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > latest) {
    throw new GwError('GW_ERR_STORE_MIGRATION', `database is from a newer version (schema ${current})`);
  }
  const pending = migrations.filter((m) => m.version > current);
  if (pending.length === 0) return [];
  const apply = db.transaction(() => {
    for (const m of pending) m.up(db);
    db.pragma(`user_version = ${latest}`);
  });
  try {
    apply.immediate();
  } catch (err) {
    throw new GwError('GW_ERR_STORE_MIGRATION', 'migration failed', { cause: err });
  }
  return pending.map((m) => m.version);
}
