import type { Database, Statement } from 'better-sqlite3';
import type { MessageClass } from './topics.js';

export interface OutboxRow {
  id: number;
  seq: number;
  msg_id: string;
  class: MessageClass;
  topic: string;
  payload: string;
  bytes: number;
  created_wall: number;
}

export type RowMeta = Pick<OutboxRow, 'id' | 'class' | 'bytes'>;

// Unsent rows (sent_wall IS NULL) are the outbox proper; sent ones are kept for `resend`
// (mqtt.resend_days) and only ever looked up by seq, shed or pruned.
const SQL = {
  // The row id is the seq (migration 010): read the AUTOINCREMENT counter, insert with it. A
  // rolled-back insert leaves the counter where it was, so no seq is skipped.
  nextSeq: `SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'outbox'), 0) + 1 AS value`,
  insert: `INSERT INTO outbox (id, msg_id, class, topic, payload, bytes, created_wall)
           VALUES (?, ?, ?, ?, ?, ?, ?)`,
  after: 'SELECT * FROM outbox WHERE id > ? AND id <= ? AND sent_wall IS NULL ORDER BY id LIMIT ?',
  del: 'DELETE FROM outbox WHERE id = ?',
  delRange: 'DELETE FROM outbox WHERE id BETWEEN ? AND ? AND sent_wall IS NULL',
  markSent: 'UPDATE outbox SET sent_wall = ? WHERE id BETWEEN ? AND ? AND sent_wall IS NULL',
  update: 'UPDATE outbox SET payload = ?, bytes = ? WHERE id = ?',
  oldestOf: `SELECT id, class, bytes, payload FROM outbox
             WHERE class = ? AND id > ? AND sent_wall IS NULL ORDER BY id LIMIT ?`,
  ofClass: 'SELECT * FROM outbox WHERE class = ? AND sent_wall IS NULL ORDER BY id',
  totals: `SELECT class, COUNT(*) AS n, COALESCE(SUM(bytes), 0) AS bytes FROM outbox
           WHERE sent_wall IS NULL GROUP BY class`,
  sentTotals: `SELECT COUNT(*) AS n, COALESCE(SUM(bytes), 0) AS bytes, MIN(sent_wall) AS oldest
               FROM outbox WHERE sent_wall IS NOT NULL`,
  oldest: 'SELECT id, created_wall FROM outbox WHERE sent_wall IS NULL ORDER BY id LIMIT ?',
  exists: 'SELECT 1 AS x FROM outbox WHERE id = ?',
  maxId: 'SELECT COALESCE(MAX(id), 0) AS id FROM outbox',
  insertWith: `INSERT INTO outbox (id, msg_id, class, topic, payload, bytes, created_wall, sent_wall)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  raiseSeq: `UPDATE sqlite_sequence SET seq = ? WHERE name = 'outbox' AND seq < ?`,
  seedSeq: `INSERT INTO sqlite_sequence (name, seq) SELECT 'outbox', ?
            WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'outbox')`,
  shedSent: `DELETE FROM outbox WHERE id IN
               (SELECT id FROM outbox WHERE sent_wall IS NOT NULL ORDER BY id LIMIT ?)
             RETURNING bytes`,
  pruneSent: 'DELETE FROM outbox WHERE sent_wall IS NOT NULL AND sent_wall < ? RETURNING bytes',
  bySeq: 'SELECT id, seq, sent_wall FROM outbox WHERE id BETWEEN ? AND ? ORDER BY id',
  sentById: 'SELECT * FROM outbox WHERE id = ? AND sent_wall IS NOT NULL',
  counters: 'SELECT key, value FROM report_counters',
  addCounter: `INSERT INTO report_counters (key, value) VALUES (?, ?)
               ON CONFLICT (key) DO UPDATE SET value = value + excluded.value`,
} as const;

/**
 * SQL of the outbox and its counters. Statements are prepared once per database handle:
 * the drain path runs these thousands of times a second.
 */
export class OutboxRepo {
  private readonly db: () => Database;
  private cache: { db: Database; stmts: Map<string, Statement> } | undefined;

  constructor(deps: { db: () => Database }) {
    this.db = deps.db;
  }

  private st(key: keyof typeof SQL): Statement {
    const db = this.db();
    if (this.cache?.db !== db) this.cache = { db, stmts: new Map() };
    let s = this.cache.stmts.get(key);
    if (!s) {
      s = db.prepare(SQL[key]);
      this.cache.stmts.set(key, s);
    }
    return s;
  }

  /** Allocates the next envelope seq; call inside the transaction that inserts the row. */
  nextSeq(): number {
    return (this.st('nextSeq').get() as { value: number }).value;
  }

  insert(r: Omit<OutboxRow, 'id'>): number {
    const info = this.st('insert').run(r.seq, r.msg_id, r.class, r.topic, r.payload, r.bytes, r.created_wall);
    return Number(info.lastInsertRowid);
  }

  /** Inserts a row written behind (its seq allocated earlier), unsent or already acknowledged. */
  insertWith(r: OutboxRow, sentWall: number | null): void {
    this.st('insertWith').run(
      r.seq,
      r.msg_id,
      r.class,
      r.topic,
      r.payload,
      r.bytes,
      r.created_wall,
      sentWall,
    );
  }

  /** Moves the seq counter up to `seq` (a seq handed out without a row: never handed out again). */
  raiseSeq(seq: number): void {
    this.st('raiseSeq').run(seq, seq);
    this.st('seedSeq').run(seq);
  }

  /** Rows with afterId < id <= maxId, oldest first. */
  after(afterId: number, maxId: number, limit: number): OutboxRow[] {
    return this.st('after').all(afterId, maxId, limit) as OutboxRow[];
  }

  delete(id: number): boolean {
    return this.st('del').run(id).changes > 0;
  }

  /** Deletes unsent ids lo..hi; returns how many rows went. */
  deleteRange(lo: number, hi: number): number {
    return this.st('delRange').run(lo, hi).changes;
  }

  /** Marks unsent ids lo..hi acknowledged at `wall` (kept for resend); returns how many. */
  markSent(lo: number, hi: number, wall: number): number {
    return this.st('markSent').run(wall, lo, hi).changes;
  }

  /** Rows kept after PUBACK: count, bytes and the oldest acknowledgement (wall ms). */
  sentTotals(): { n: number; bytes: number; oldest: number | null } {
    return this.st('sentTotals').get() as { n: number; bytes: number; oldest: number | null };
  }

  /** Deletes the `limit` oldest kept rows (space for unsent ones); returns their sizes. */
  shedSent(limit: number): number[] {
    return (this.st('shedSent').all(limit) as Array<{ bytes: number }>).map((r) => r.bytes);
  }

  /** Deletes kept rows acknowledged before `wall`, in one statement; returns their sizes. */
  pruneSent(wall: number): number[] {
    return (this.st('pruneSent').all(wall) as Array<{ bytes: number }>).map((r) => r.bytes);
  }

  /** Every row, sent or not, with a seq in lo..hi (the seq is UNIQUE: an index range). */
  bySeq(lo: number, hi: number): Array<{ id: number; seq: number; sent_wall: number | null }> {
    return this.st('bySeq').all(lo, hi) as Array<{ id: number; seq: number; sent_wall: number | null }>;
  }

  /** A kept (sent) row by id, or undefined once pruned or shed. */
  sentById(id: number): OutboxRow | undefined {
    return this.st('sentById').get(id) as OutboxRow | undefined;
  }

  update(id: number, payload: string, bytes: number): void {
    this.st('update').run(payload, bytes, id);
  }

  oldestOf(cls: MessageClass, afterId: number, limit: number): Array<RowMeta & { payload: string }> {
    return this.st('oldestOf').all(cls, afterId, limit) as Array<RowMeta & { payload: string }>;
  }

  allOf(cls: MessageClass): OutboxRow[] {
    return this.st('ofClass').all(cls) as OutboxRow[];
  }

  totals(): Array<{ class: MessageClass; n: number; bytes: number }> {
    return this.st('totals').all() as Array<{ class: MessageClass; n: number; bytes: number }>;
  }

  /**
   * The creation time of the oldest unsent row that is not in `skip` (rows acknowledged whose
   * mark waits for the next commit). Looks at most `skip.size + 1` rows.
   */
  oldestWall(skip: ReadonlySet<number> = new Set()): number | undefined {
    const rows = this.st('oldest').all(skip.size + 1) as Array<{ id: number; created_wall: number }>;
    return rows.find((r) => !skip.has(r.id))?.created_wall;
  }

  exists(id: number): boolean {
    return this.st('exists').get(id) !== undefined;
  }

  maxId(): number {
    return (this.st('maxId').get() as { id: number }).id;
  }

  counters(): Map<string, number> {
    const rows = this.st('counters').all() as Array<{ key: string; value: number }>;
    return new Map(rows.map((r) => [r.key, r.value]));
  }

  addCounter(key: string, n: number): void {
    this.st('addCounter').run(key, n);
  }
}
