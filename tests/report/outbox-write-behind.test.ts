import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/net.js';
import { tempDir } from '../helpers/tmp.js';
import { fakeBroker, rig } from './outbox-rig.js';

/*
 * Health written behind (Outbox deferHealthMs): while connected, a health message is published
 * from memory and stored with the next commit of anything else, when the link goes, at stop or
 * after the window. Real SQLite; the WAL's size shows whether a commit happened.
 */
const WEEK_MS = 7 * 86_400_000;

describe('outbox: health written behind while connected', () => {
  const tmps: Array<{ cleanup(): void }> = [];
  const dir = () => {
    const t = tempDir('kgw-outbox-wb-');
    tmps.push(t);
    return t.path;
  };
  afterEach(() => {
    for (const t of tmps.splice(0)) t.cleanup();
  });
  const walSize = (d: string) => statSync(join(d, 'gateway.db-wal')).size;
  const rows = (r: ReturnType<typeof rig>) =>
    r.store.db.prepare('SELECT id, class, sent_wall FROM outbox ORDER BY id').all() as Array<{
      id: number;
      class: string;
      sent_wall: number | null;
    }>;

  it('five health messages go out at once and are stored in one commit, as kept rows with their seqs', async () => {
    const d = dir();
    const r = rig(d, { keepMs: WEEK_MS, deferHealthMs: 60_000 });
    const b = fakeBroker(1);
    r.pump.attach(b.sender);
    const before = walSize(d);
    for (let i = 0; i < 5; i++) {
      r.outbox.enqueue('health', { i });
      r.pump.kick();
    }
    await waitFor(() => b.sent.length === 5 && r.outbox.depth() === 0, 5000);
    // Published and acknowledged, nothing written yet.
    expect(walSize(d)).toBe(before);
    expect(rows(r)).toEqual([]);
    expect(b.sent.map((s) => (JSON.parse(s.payload) as { seq: number }).seq)).toEqual([1, 2, 3, 4, 5]);
    r.outbox.writePending();
    const stored = rows(r);
    expect(stored.map((x) => x.id)).toEqual([1, 2, 3, 4, 5]);
    expect(stored.every((x) => x.class === 'health' && x.sent_wall !== null)).toBe(true);
    expect(r.outbox.sent().rows).toBe(5);
    // The next message carries on from the stored seqs.
    r.outbox.enqueue('event', { code: 'x', severity: 'info', message: 'y' });
    expect(rows(r).at(-1)?.id).toBe(6);
    r.close();
  });

  it('an event stores the health held before it in its own commit: seqs in order, nothing lost', async () => {
    const d = dir();
    const r = rig(d, { keepMs: WEEK_MS, deferHealthMs: 60_000 });
    const b = fakeBroker(1);
    r.pump.attach(b.sender);
    r.outbox.enqueue('health', { i: 1 });
    r.outbox.enqueue('health', { i: 2 });
    expect(rows(r)).toEqual([]);
    r.outbox.enqueue('event', { code: 'x', severity: 'info', message: 'y' });
    expect(rows(r).map((x) => [x.id, x.class])).toEqual([
      [1, 'health'],
      [2, 'health'],
      [3, 'event'],
    ]);
    r.pump.kick();
    await waitFor(() => b.sent.length === 3 && r.outbox.depth() === 0, 5000);
    r.close();
  });

  it('when the link goes, health never acknowledged is stored as backlog and goes again, flagged historical', async () => {
    const d = dir();
    const r = rig(d, { keepMs: WEEK_MS, deferHealthMs: 60_000 });
    // A broker that never acknowledges.
    const published: string[] = [];
    r.pump.attach({ publish: (_topic, payload) => published.push(payload) });
    r.outbox.enqueue('health', { i: 1 });
    r.pump.kick();
    await waitFor(() => published.length === 1, 5000);
    expect(rows(r)).toEqual([]);
    r.pump.detach();
    expect(rows(r)).toEqual([{ id: 1, class: 'health', sent_wall: null }]);
    // Offline, health is backlog: stored at once.
    r.outbox.enqueue('health', { i: 2 });
    expect(rows(r).map((x) => x.id)).toEqual([1, 2]);
    const b = fakeBroker(1);
    r.pump.attach(b.sender);
    await waitFor(() => r.outbox.depth() === 0, 5000);
    const sent = b.sent.map((s) => JSON.parse(s.payload) as { seq: number; historical: boolean });
    expect(sent).toEqual([
      expect.objectContaining({ seq: 1, historical: true }),
      expect.objectContaining({ seq: 2, historical: true }),
    ]);
    r.close();
  });

  it('a crash loses only health held in memory; its seqs are handed out again after the restart', async () => {
    const d = dir();
    const r = rig(d, { keepMs: WEEK_MS, deferHealthMs: 60_000 });
    r.outbox.enqueue('event', { code: 'stored', severity: 'info', message: 'first' });
    const b = fakeBroker(1);
    r.pump.attach(b.sender);
    r.outbox.enqueue('health', { i: 1 });
    r.pump.kick();
    await waitFor(() => r.outbox.depth() === 0, 5000);
    r.scheduler.stop();
    r.store.stop(); // as kill -9: no flush
    const again = rig(d, { keepMs: WEEK_MS, deferHealthMs: 60_000 });
    expect(rows(again).map((x) => x.id)).toEqual([1]);
    // The regency reads seq 2 under a new boot as "seq reused after a power cut".
    expect(again.outbox.enqueue('event', { code: 'next', severity: 'info', message: 'x' })?.seq).toBe(2);
    again.close();
  });

  it('without kept envelopes an acknowledged health row is never written, and its seq is never handed out again', async () => {
    const d = dir();
    const r = rig(d, { keepMs: 0, deferHealthMs: 60_000 });
    const b = fakeBroker(1);
    r.pump.attach(b.sender);
    r.outbox.enqueue('health', { i: 1 });
    r.pump.kick();
    await waitFor(() => r.outbox.depth() === 0, 5000);
    r.close(); // a clean stop stores what is held
    const again = rig(d, { keepMs: 0, deferHealthMs: 60_000 });
    expect(rows(again)).toEqual([]);
    expect(again.outbox.enqueue('event', { code: 'next', severity: 'info', message: 'x' })?.seq).toBe(2);
    again.close();
  });

  it('the window writes what is held on its own, and oldest_age_s counts health held in memory', async () => {
    const d = dir();
    const r = rig(d, { keepMs: WEEK_MS, deferHealthMs: 150 });
    r.pump.attach({ publish: () => undefined });
    r.outbox.enqueue('health', { i: 1 });
    expect(r.outbox.oldestAgeS()).toBe(0);
    expect(r.outbox.depth()).toBe(1);
    await waitFor(() => rows(r).length === 1, 5000);
    expect(rows(r)[0]).toEqual({ id: 1, class: 'health', sent_wall: null });
    expect(r.outbox.depth()).toBe(1);
    r.close();
  });

  /** Makes the store's next commit fail after its work ran (as a full disk would at COMMIT). */
  const failNextCommit = (r: ReturnType<typeof rig>) => {
    const own = r.store as unknown as Record<string, unknown>;
    for (const k of ['durable', 'batch'] as const) {
      own[k] = (fn: () => unknown) => {
        // Only this commit fails: the store's own methods show through again.
        delete own.durable;
        delete own.batch;
        return r.store[k](() => {
          fn();
          throw new Error('SQLITE_FULL (simulated)');
        });
      };
    }
  };

  it('a failed commit leaves no phantom count, and held kept health stays counted across the recount', async () => {
    const d = dir();
    const r = rig(d, { keepMs: WEEK_MS, deferHealthMs: 60_000 });
    r.outbox.enqueue('event', { code: 'a', severity: 'info', message: 'stored' });
    expect(r.outbox.depth()).toBe(1);
    failNextCommit(r);
    expect(() => r.outbox.enqueue('event', { code: 'b', severity: 'info', message: 'lost' })).toThrow(
      /SQLITE_FULL/,
    );
    // The rolled-back row is not counted; the stored one is.
    expect(r.outbox.depth()).toBe(1);
    expect(rows(r).map((x) => x.id)).toEqual([1]);

    const b = fakeBroker(1);
    r.pump.attach(b.sender);
    await waitFor(() => r.outbox.depth() === 0, 5000);
    r.outbox.enqueue('health', { i: 1 });
    r.pump.kick();
    await waitFor(() => r.outbox.depth() === 0 && b.sent.length === 2, 5000);
    expect(r.outbox.sent().rows).toBe(2);
    // A failed commit recounts from the table: the acknowledged health held in memory still counts.
    failNextCommit(r);
    expect(() => r.outbox.enqueue('event', { code: 'c', severity: 'info', message: 'lost' })).toThrow(
      /SQLITE_FULL/,
    );
    expect(r.outbox.sent().rows).toBe(2);
    r.outbox.writePending();
    expect(rows(r).filter((x) => x.sent_wall !== null)).toHaveLength(2);
    expect(r.outbox.sent().rows).toBe(2);
    r.close();
  });
});
