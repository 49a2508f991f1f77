import { afterAll, describe, expect, it } from 'vitest';
import { SystemClock } from '../../src/core/clock.js';
import { createLogger } from '../../src/core/logger.js';
import { Scheduler } from '../../src/core/scheduler.js';
import { GroupCommitter } from '../../src/devices/group-commit.js';

const scheduler = new Scheduler({ clock: new SystemClock(), log: createLogger({ level: 'fatal' }) });
afterAll(() => scheduler.stop());

function committer(windowMs: number, maxItems = 1000, fail = false) {
  const groups: number[][] = [];
  const gc = new GroupCommitter<number[], number>({
    windowMs,
    maxItems,
    size: (r) => r.length,
    after: (ms, fn) => scheduler.after('test-group-commit', ms, fn),
    commit: (requests) => {
      if (fail) throw Object.assign(new Error('disk full'), { code: 'SQLITE_FULL' });
      groups.push(requests.map((r) => r.length));
      return requests.map((r) => r.reduce((a, b) => a + b, 0));
    },
  });
  return { gc, groups };
}

describe('group commit', () => {
  it('requests within one window share one commit; each gets its own result after it', async () => {
    const { gc, groups } = committer(5);
    const results = await Promise.all([gc.submit([1, 2]), gc.submit([3]), gc.submit([4, 5, 6])]);
    expect(results).toEqual([3, 3, 15]);
    expect(groups).toEqual([[2, 1, 3]]);
    expect(gc.commitCount).toBe(1);
  });

  it('with window 0 a group is one event-loop turn', async () => {
    const { gc, groups } = committer(0);
    const a = Promise.all([gc.submit([1]), gc.submit([1])]);
    await a;
    await gc.submit([1]);
    expect(groups).toEqual([[1, 1], [1]]);
  });

  it('flushes at once when maxItems are waiting', async () => {
    const { gc, groups } = committer(10_000, 4);
    const p1 = gc.submit([1, 1]);
    const p2 = gc.submit([1, 1]);
    expect(groups).toEqual([[2, 2]]);
    await Promise.all([p1, p2]);
  });

  it('a failed commit rejects every request of its group and nothing resolves early', async () => {
    const { gc } = committer(2, 1000, true);
    const settled = await Promise.allSettled([gc.submit([1]), gc.submit([2])]);
    expect(settled.map((s) => s.status)).toEqual(['rejected', 'rejected']);
    expect(gc.commitCount).toBe(0);
  });

  it('flush() commits what waits (used at stop)', async () => {
    const { gc, groups } = committer(60_000);
    const p = gc.submit([7]);
    gc.flush();
    expect(await p).toBe(7);
    expect(groups).toEqual([[1]]);
  });
});
