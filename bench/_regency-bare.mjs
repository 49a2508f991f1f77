// The reference the collector is measured against: a bare loop that inserts the rows the
// collector stored into a fresh store of the same kind — same migrated schema, same
// durability (SQLite WAL + synchronous=FULL; PostgreSQL defaults), transactions of at most
// 500 rows (the collector's largest group commit), one prepared INSERT … ON CONFLICT (the
// store's key: id; on PostgreSQL (id, kind, day), the month partitions of the rows made first)
// DO NOTHING per row. No MQTT, no validation, no ledger, no village state.
//   node bench/_regency-bare.mjs ROWS.json DATA_DIR PG_URL|''   → one JSON line
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { createLogger } from '../dist/core/logger.js';
import { openRegencyDb } from '../dist/regency/store/open-db.js';
import { PartitionRepo } from '../dist/regency/store/partition-repo.js';

const [rowsFile, dataDir, url] = process.argv.slice(2);
const rows = JSON.parse(readFileSync(rowsFile, 'utf8'));
const BATCH = 500;
const COLS = ['id', 'gw', 'kind', 'boot', 'seq', 'ts', 'clock_synced', 'historical', 'day', 'received_ms', 'data'];
const log = createLogger({ level: 'warn' });
const opened = await openRegencyDb({ data_dir: dataDir, database: { url: url ?? '' } }, log);
if (url) await new PartitionRepo({ db: opened.db }).ensure([...new Set(rows.map((r) => r.day.slice(0, 7)))].sort());
await opened.db.destroy();

let inserted = 0;
const t0 = performance.now();
if (!url) {
  const db = new Database(join(dataDir, 'regency.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  const ins = db.prepare(
    `INSERT INTO messages (${COLS.join(',')}) VALUES (${COLS.map(() => '?').join(',')}) ON CONFLICT (id) DO NOTHING`,
  );
  const tx = db.transaction((batch) => {
    for (const r of batch) inserted += ins.run(...COLS.map((c) => r[c])).changes;
  });
  for (let i = 0; i < rows.length; i += BATCH) tx.immediate(rows.slice(i, i + BATCH));
  db.close();
} else {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  const text = `INSERT INTO messages (${COLS.join(',')}) VALUES (${COLS.map((_, i) => `$${i + 1}`).join(',')}) ON CONFLICT (id, kind, day) DO NOTHING`;
  for (let i = 0; i < rows.length; i += BATCH) {
    await c.query('BEGIN');
    for (const r of rows.slice(i, i + BATCH))
      inserted += (await c.query({ name: 'ins', text, values: COLS.map((col) => r[col]) })).rowCount;
    await c.query('COMMIT');
  }
  await c.end();
}
const s = (performance.now() - t0) / 1000;
console.log(JSON.stringify({ rows: rows.length, inserted, seconds: s, per_s: rows.length / s }));
