import BetterSqlite3 from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { OutboxRepo } from '../../src/report/outbox-repo.js';
import { migrate } from '../../src/store/migrate.js';
import { MIGRATIONS } from '../../src/store/migrations/index.js';

const upTo = (v: number) => MIGRATIONS.filter((m) => m.version <= v);

/** A box on release 9's schema: the seq counter ahead of the row ids, as after a power cut or a wipe. */
function release9(rows: Array<{ seq: number; sent: boolean }>, counter: number) {
  const db = new BetterSqlite3(':memory:');
  migrate(db, upTo(9));
  const insert = db.prepare(
    `INSERT INTO outbox (seq, msg_id, class, topic, payload, bytes, created_wall, sent_wall)
     VALUES (?, ?, 'health', 'kampung/v1/3510170012/health', '{}', 2, 1, ?)`,
  );
  for (const r of rows) insert.run(r.seq, `m-${r.seq}`, r.sent ? 5 : null);
  db.prepare(`UPDATE report_counters SET value = ? WHERE key = 'seq'`).run(counter);
  return db;
}

describe('migration 010: the outbox row id becomes the seq', () => {
  it('keeps every row under its seq, sent marks included, and the next seq follows the old counter', () => {
    const db = release9(
      [
        { seq: 41, sent: true },
        { seq: 42, sent: false },
        { seq: 45, sent: false },
      ],
      57,
    );
    migrate(db, MIGRATIONS);
    const rows = db.prepare('SELECT id, seq, msg_id, sent_wall FROM outbox ORDER BY id').all();
    expect(rows).toEqual([
      { id: 41, seq: 41, msg_id: 'm-41', sent_wall: 5 },
      { id: 42, seq: 42, msg_id: 'm-42', sent_wall: null },
      { id: 45, seq: 45, msg_id: 'm-45', sent_wall: null },
    ]);
    const repo = new OutboxRepo({ db: () => db });
    expect(repo.nextSeq()).toBe(58);
    expect(repo.after(0, Number.MAX_SAFE_INTEGER, 10).map((r) => r.seq)).toEqual([42, 45]);
    expect(repo.bySeq(40, 46).map((r) => r.seq)).toEqual([41, 42, 45]);
    // Counters other than the seq are kept.
    expect(repo.counters().has('seq')).toBe(false);
  });

  it('an empty outbox after a long uptime: the seq never goes back', () => {
    const db = release9([], 123_456);
    migrate(db, MIGRATIONS);
    const repo = new OutboxRepo({ db: () => db });
    expect(repo.nextSeq()).toBe(123_457);
    const id = repo.insert({
      seq: 123_457,
      msg_id: 'm',
      class: 'event',
      topic: 't',
      payload: '{}',
      bytes: 2,
      created_wall: 1,
    });
    expect(id).toBe(123_457);
    expect(repo.nextSeq()).toBe(123_458);
    // Deleting every row does not lower it either.
    db.exec('DELETE FROM outbox');
    expect(repo.nextSeq()).toBe(123_458);
  });

  it('a rolled-back insert skips no seq', () => {
    const db = new BetterSqlite3(':memory:');
    migrate(db, MIGRATIONS);
    const repo = new OutboxRepo({ db: () => db });
    const row = (seq: number) => ({
      seq,
      msg_id: `m${seq}`,
      class: 'usage' as const,
      topic: 't',
      payload: '{}',
      bytes: 2,
      created_wall: 1,
    });
    repo.insert(row(repo.nextSeq()));
    expect(() =>
      db.transaction(() => {
        repo.insert(row(repo.nextSeq()));
        throw new Error('disk full');
      })(),
    ).toThrow('disk full');
    expect(repo.nextSeq()).toBe(2);
  });
});
