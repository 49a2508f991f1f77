import type Database from 'better-sqlite3';
import { REVOKED_SQL, revokedMap } from '../provision/credentials-repo.js';
import type { Gap } from '../seq-ledger.js';
import { type CommitResult, foldBatch, planBatch, type Received } from './ingest-fold.js';
import { type Loaded, rangeKey, type VillageRow } from './ingest-load.js';
import { VILLAGE_COLS, type VillageWrites } from './ingest-write.js';

type Stmt = Database.Statement<unknown[]>;

const MESSAGE_COLS = [
  'id',
  'gw',
  'kind',
  'boot',
  'seq',
  'ts',
  'clock_synced',
  'historical',
  'day',
  'received_ms',
  'data',
] as const;
const marks = (n: number) => Array.from({ length: n }, () => '?').join(', ');
/** The batch's village codes, bound once as a JSON array: one statement text for any batch size. */
const IN_BATCH = 'gw IN (SELECT value FROM json_each(?))';

/** The statement texts of a SQLite commit, each prepared once (see SqliteIngest). */
const SQL = {
  revoked: REVOKED_SQL,
  quarantine: `INSERT INTO quarantine (at_ms, topic, reason, detail, size, payload) VALUES (${marks(6)})`,
  ensureVillages: `INSERT INTO villages (gw) SELECT value FROM json_each(?) WHERE true ON CONFLICT (gw) DO NOTHING`,
  villages: `SELECT * FROM villages WHERE ${IN_BATCH}`,
  gaps: `SELECT gw, id, lo, hi, opened_ms, opened_day FROM seq_gaps WHERE state = 'open' AND ${IN_BATCH}`,
  boots: `SELECT gw, boot, rank FROM village_boots WHERE ${IN_BATCH}`,
  ranges: 'SELECT lo, hi FROM seq_ranges WHERE gw = ? AND boot = ?',
  message: `INSERT INTO messages (${MESSAGE_COLS.join(', ')}) VALUES (${marks(MESSAGE_COLS.length)})
    ON CONFLICT (id) DO NOTHING`,
  boot: 'INSERT INTO village_boots (gw, boot, rank, first_ms) VALUES (?, ?, ?, ?)',
  reuse: 'INSERT INTO seq_reuse (gw, seq, boot, msg_id, day, at_ms) VALUES (?, ?, ?, ?, ?, ?)',
  rangesClear: 'DELETE FROM seq_ranges WHERE gw = ? AND boot = ?',
  range: 'INSERT INTO seq_ranges (gw, boot, lo, hi) VALUES (?, ?, ?, ?)',
  gapOpen: `INSERT INTO seq_gaps (gw, lo, hi, state, opened_ms, opened_day, closed_ms) VALUES (?, ?, ?, 'open', ?, ?, NULL)`,
  gapNarrow: 'UPDATE seq_gaps SET lo = ?, hi = ? WHERE id = ?',
  gapRepaired: `UPDATE seq_gaps SET state = 'repaired', closed_ms = ? WHERE id = ?`,
  gapDrop: 'DELETE FROM seq_gaps WHERE id = ?',
  day: `INSERT INTO ledger_days (gw, day, messages, duplicates, reused, folded, min_seq, max_seq)
    VALUES (${marks(8)}) ON CONFLICT (gw, day) DO UPDATE SET
      messages = ledger_days.messages + excluded.messages,
      duplicates = ledger_days.duplicates + excluded.duplicates,
      reused = ledger_days.reused + excluded.reused,
      folded = ledger_days.folded + excluded.folded,
      min_seq = CASE WHEN ledger_days.min_seq IS NULL OR excluded.min_seq < ledger_days.min_seq
                THEN excluded.min_seq ELSE ledger_days.min_seq END,
      max_seq = CASE WHEN ledger_days.max_seq IS NULL OR excluded.max_seq > ledger_days.max_seq
                THEN excluded.max_seq ELSE ledger_days.max_seq END`,
  deviceGone: 'DELETE FROM village_devices WHERE gw = ? AND device_id = ?',
  device: `INSERT INTO village_devices (gw, device_id, state, data, at_ms) VALUES (${marks(5)})
    ON CONFLICT (gw, device_id) DO UPDATE SET state = excluded.state, data = excluded.data, at_ms = excluded.at_ms`,
  // The row exists: ensureVillages made it in the same (IMMEDIATE) transaction.
  village: `UPDATE villages SET ${VILLAGE_COLS.map((c) => `${c} = ?`).join(', ')} WHERE gw = ?`,
  counter: `INSERT INTO counters (name, value) VALUES (?, ?)
    ON CONFLICT (name) DO UPDATE SET value = counters.value + excluded.value`,
  lag: `INSERT INTO counters (name, value) VALUES ('last_lag_ms', ?)
    ON CONFLICT (name) DO UPDATE SET value = excluded.value`,
} as const;

type Statements = { -readonly [K in keyof typeof SQL]: Stmt };

/**
 * The commit of ingest-repo.ts on SQLite, run on the better-sqlite3 handle itself: one
 * synchronous `BEGIN IMMEDIATE … COMMIT` (WAL, synchronous=FULL: durable when it returns)
 * with statements prepared once for the life of the store. There is no round trip to save
 * on an embedded store, so the rows are written one prepared statement each, as a bare insert
 * loop would (building and compiling a multi-row statement through Kysely cost more than the
 * writes); the villages of the batch are still read with one statement per table, their codes
 * bound as a JSON array. The plan and the fold are the same as on PostgreSQL (ingest-fold.ts).
 */
export class SqliteIngest {
  private readonly sqlite: Database.Database;
  private readonly repairAfterMs: number;
  private tx:
    | (((batch: readonly Received[]) => CommitResult) & { immediate(b: readonly Received[]): CommitResult })
    | undefined;

  constructor(sqlite: Database.Database, repairAfterMs: number) {
    this.sqlite = sqlite;
    this.repairAfterMs = repairAfterMs;
  }

  /** Commits the batch (prepares the statements on first use: the schema is migrated by then). */
  commit(batch: readonly Received[]): CommitResult {
    if (!this.tx) {
      const s = {} as Statements;
      for (const [k, text] of Object.entries(SQL)) s[k as keyof Statements] = this.sqlite.prepare(text);
      this.tx = this.sqlite.transaction((b: readonly Received[]) => this.apply(s, b));
    }
    return this.tx.immediate(batch);
  }

  private apply(s: Statements, batch: readonly Received[]): CommitResult {
    // Read in the same transaction: whatever commits after `regency revoke` committed is refused.
    const revoked = revokedMap(s.revoked.all() as Array<{ code: string; revoked_ms: number }>);
    const plan = planBatch(batch, revoked);
    for (const q of plan.quarantined)
      s.quarantine.run(q.at_ms, q.topic, q.reason, q.detail, q.size, q.payload);
    const loaded = load(s, plan.gws, plan.pairs);
    const inserted = new Set<string>();
    for (const m of plan.messages)
      if (
        s.message.run(
          m.id,
          m.gw,
          m.kind,
          m.boot,
          m.seq,
          m.ts,
          m.clock_synced,
          m.historical,
          m.day,
          m.received_ms,
          m.data,
        ).changes > 0
      )
        inserted.add(m.id);
    const writes = foldBatch(plan, loaded, inserted);
    write(s, writes, plan.nowMs, this.repairAfterMs);
    const r = plan.result;
    const deltas = {
      messages: r.messages,
      duplicates: r.duplicates,
      reused: r.reused,
      quarantined: r.quarantined,
    };
    for (const [name, value] of Object.entries(deltas)) if (value !== 0) s.counter.run(name, value);
    if (r.lagMs !== null) s.lag.run(r.lagMs);
    return r;
  }
}

/** The batch's villages (created when new), their open gaps, boots and the seq ranges named. */
function load(
  s: Statements,
  gws: readonly string[],
  pairs: ReadonlyArray<readonly [string, string]>,
): Loaded {
  const loaded: Loaded = { villages: new Map(), gaps: new Map(), boots: new Map(), ranges: new Map() };
  const codes = JSON.stringify(gws);
  s.ensureVillages.run(codes);
  for (const row of s.villages.all(codes) as VillageRow[]) loaded.villages.set(row.gw, row);
  type GapRow = { gw: string; id: number; lo: number; hi: number; opened_ms: number; opened_day: string };
  for (const g of s.gaps.all(codes) as GapRow[]) {
    const gap: Gap = { id: g.id, lo: g.lo, hi: g.hi, openedMs: g.opened_ms, openedDay: g.opened_day };
    const list = loaded.gaps.get(g.gw);
    if (list) list.push(gap);
    else loaded.gaps.set(g.gw, [gap]);
  }
  for (const b of s.boots.all(codes) as Array<{ gw: string; boot: string; rank: number }>) {
    let m = loaded.boots.get(b.gw);
    if (!m) {
      m = new Map();
      loaded.boots.set(b.gw, m);
    }
    m.set(b.boot, Number(b.rank));
  }
  for (const [gw, boot] of pairs)
    loaded.ranges.set(
      rangeKey(gw, boot),
      (s.ranges.all(gw, boot) as Array<{ lo: number; hi: number }>).map((r) => ({
        lo: Number(r.lo),
        hi: Number(r.hi),
      })),
    );
  return loaded;
}

/** The fold's writes, a prepared statement a row (what writeVillages() does with multi-row ones). */
function write(s: Statements, w: VillageWrites, nowMs: number, repairAfterMs: number): void {
  for (const b of w.boots) s.boot.run(b.gw, b.boot, b.rank, b.first_ms);
  for (const u of w.reuse) s.reuse.run(u.gw, u.seq, u.boot, u.msg_id, u.day, u.at_ms);
  for (const r of w.ranges) {
    s.rangesClear.run(r.gw, r.boot);
    for (const x of r.list) s.range.run(r.gw, r.boot, x.lo, x.hi);
  }
  for (const { gw, gap } of w.gapsOpened) s.gapOpen.run(gw, gap.lo, gap.hi, gap.openedMs, gap.openedDay);
  for (const g of w.gapsNarrowed) s.gapNarrow.run(g.lo, g.hi, g.id);
  // A gap filled soon after it opened was only reordering: it leaves no trace (see writeGaps).
  for (const g of w.gapsFilled)
    if (nowMs - g.openedMs >= repairAfterMs) s.gapRepaired.run(nowMs, g.id);
    else s.gapDrop.run(g.id);
  for (const { gw, day, c } of w.days)
    s.day.run(gw, day, c.messages, c.duplicates, c.reused, c.folded, c.min, c.max);
  for (const o of w.devices.values())
    if (o.row === null) s.deviceGone.run(o.gw, o.deviceId);
    else s.device.run(o.gw, o.deviceId, o.row.state, o.row.data, o.row.at_ms);
  for (const v of w.villages) s.village.run(...VILLAGE_COLS.map((c) => v[c] ?? null), v.gw);
}
