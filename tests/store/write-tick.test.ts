import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SystemClock } from '../../src/core/clock.js';
import { createLogger } from '../../src/core/logger.js';
import { RunsRepo } from '../../src/store/runs-repo.js';
import { WriteTick } from '../../src/store/write-tick.js';
import { waitFor } from '../helpers/net.js';
import { tempDir } from '../helpers/tmp.js';
import { fakeBroker, rig } from '../report/outbox-rig.js';

/*
 * The periodic writers of derived data commit together on the write tick. Real SQLite; the
 * commits are counted in the WAL itself (a frame whose "database size" field is set ends a
 * commit), since on an SD card a commit costs about 16 KiB whatever it holds.
 */
const log = createLogger({ level: 'fatal' });
const WEEK_MS = 7 * 86_400_000;

function walCommits(file: string): number {
  const buf = readFileSync(file);
  if (buf.length < 32) return 0;
  const pageSize = buf.readUInt32BE(8);
  const salts = [buf.readUInt32BE(16), buf.readUInt32BE(20)];
  let commits = 0;
  for (let off = 32; off + 24 + pageSize <= buf.length; off += 24 + pageSize) {
    // Frames left over from before the last checkpoint carry other salts.
    if (buf.readUInt32BE(off + 8) !== salts[0] || buf.readUInt32BE(off + 12) !== salts[1]) break;
    if (buf.readUInt32BE(off + 4) !== 0) commits++;
  }
  return commits;
}

describe('write tick', () => {
  const tmps: Array<{ cleanup(): void }> = [];
  const closers: Array<() => void> = [];
  afterEach(() => {
    for (const c of closers.splice(0)) c();
    for (const t of tmps.splice(0)) t.cleanup();
  });

  async function setup() {
    const t = tempDir('kgw-tick-');
    tmps.push(t);
    const r = rig(t.path, { keepMs: WEEK_MS, deferHealthMs: 600_000 });
    closers.push(() => r.close());
    const runs = new RunsRepo({ db: () => r.store.db, clock: new SystemClock() });
    r.store.batch(() => runs.begin('run-1', '0.0.0'));
    const b = fakeBroker(1);
    r.pump.attach(b.sender);
    // Five health messages published and acknowledged while connected: held in memory.
    for (let i = 0; i < 5; i++) {
      r.outbox.enqueue('health', { i });
      r.pump.kick();
    }
    await waitFor(() => b.sent.length === 5 && r.outbox.depth() === 0, 5000);
    const tick = new WriteTick({ store: r.store, scheduler: r.scheduler, log });
    const commits = () => walCommits(join(t.path, 'gateway.db-wal'));
    const kept = () => (r.store.db.prepare('SELECT COUNT(*) AS n FROM outbox').get() as { n: number }).n;
    return { r, runs, tick, commits, kept };
  }

  it('the held health, the alive stamp and the other periodic writers make one commit', async () => {
    const { r, runs, tick, commits, kept } = await setup();
    tick.add(r.outbox.tickWriter());
    tick.add({ name: 'run-alive', write: () => runs.alive('run-1') });
    tick.add({ name: 'other', write: () => r.store.db.exec('CREATE TABLE IF NOT EXISTS t (x)') });
    const before = commits();
    tick.run();
    expect(commits()).toBe(before + 1);
    expect(kept()).toBe(5);
    expect(r.outbox.sent().rows).toBe(5);
    // Nothing left to write: the next tick writes what is new, and nothing twice.
    tick.run();
    expect(kept()).toBe(5);
  });

  it('a writer that fails rolls back its own part only', async () => {
    const { r, runs, tick, commits, kept } = await setup();
    const settled: Record<string, boolean> = {};
    tick.add({
      name: 'broken',
      write: () => {
        r.store.db.exec('CREATE TABLE IF NOT EXISTS u (x)');
        throw new Error('broken writer');
      },
      settled: (ok) => {
        settled.broken = ok;
      },
    });
    const outbox = r.outbox.tickWriter();
    tick.add({
      ...outbox,
      settled: (ok) => {
        settled.outbox = ok;
        outbox.settled?.(ok);
      },
    });
    tick.add({ name: 'run-alive', write: () => runs.alive('run-1') });
    const before = commits();
    tick.run();
    expect(commits()).toBe(before + 1);
    expect(settled).toEqual({ broken: false, outbox: true });
    expect(kept()).toBe(5);
    expect(r.store.db.prepare("SELECT name FROM sqlite_master WHERE name = 'u'").get()).toBeUndefined();
  });

  it('held health whose commit failed stays held, and the next tick stores it', async () => {
    const { r, tick, kept } = await setup();
    const w = r.outbox.tickWriter();
    // A commit that fails after the outbox wrote its part (as a full disk fails at COMMIT).
    expect(() =>
      r.store.batch(() => {
        w.write();
        throw new Error('disk full');
      }),
    ).toThrow('disk full');
    w.settled?.(false);
    expect(kept()).toBe(0);
    expect(r.outbox.sent().rows).toBe(5);
    tick.add(w);
    tick.run();
    expect(kept()).toBe(5);
    expect(r.store.db.prepare('SELECT MIN(id) AS lo, MAX(id) AS hi FROM outbox').get()).toEqual({
      lo: 1,
      hi: 5,
    });
  });
});
