// The collector's group commit (ingest-queue.ts) on its own: what joins a batch, when a
// commit starts, and that nothing is acknowledged before its commit returned.
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { SystemClock } from '../../src/core/clock.js';
import { Scheduler } from '../../src/core/scheduler.js';
import { IngestQueue, type IngestQueueOptions } from '../../src/regency/ingest-queue.js';
import type { CommitResult, Received } from '../../src/regency/store/ingest-repo.js';
import { waitFor } from '../helpers/net.js';

const log = pino({ level: 'silent' });
const scheduler = new Scheduler({ clock: new SystemClock(undefined, 'b'), log });
afterAll(() => scheduler.stop());

const turn = () => new Promise((r) => setImmediate(r));
const rec = (gw: string): Received => ({ item: { t: 'ignore', gw, kind: 'command' }, atMs: 0 });
const RESULT = {} as CommitResult;

/** A queue over a recording commit; `fail(batch)` true makes that commit throw. */
function rig(o: Partial<IngestQueueOptions> & { fail?: (b: readonly Received[]) => boolean } = {}) {
  const commits: Array<{ gws: string[]; at: number }> = [];
  const acked: string[] = [];
  const t0 = performance.now();
  const q = new IngestQueue({
    commit: async (batch) => {
      if (o.fail?.(batch)) throw new Error('store refused');
      commits.push({
        gws: batch.map((r) => (r.item.t === 'quarantine' ? 'Q' : r.item.gw)),
        at: performance.now() - t0,
      });
      return RESULT;
    },
    onCommitted: () => {},
    ping: async () => true,
    log,
    after: (ms, fn) => scheduler.after('test', ms, fn),
    ...o,
  });
  const push = (gw: string) => q.push(rec(gw), () => acked.push(gw));
  return { q, commits, acked, push };
}

describe('IngestQueue', () => {
  it('commits what arrived in one loop turn together, then acknowledges it', async () => {
    const r = rig();
    r.push('a');
    r.push('b');
    expect(r.acked).toEqual([]);
    await turn();
    r.push('c');
    await r.q.idle();
    expect(r.commits.map((c) => c.gws)).toEqual([['a', 'b'], ['c']]);
    expect(r.acked).toEqual(['a', 'b', 'c']);
  });

  it('a retry after a failed commit waits its delay, and takes what queued meanwhile', async () => {
    let calls = 0;
    const r = rig({ maxBatch: 2, retryMs: 300, fail: () => calls++ === 0 });
    r.push('a');
    await waitFor(() => (calls === 1 ? true : null), 2000); // the first commit failed
    for (const gw of ['b', 'c', 'd']) r.push(gw);
    await new Promise((res) => setTimeout(res, 100));
    expect(r.commits).toEqual([]);
    await waitFor(() => r.acked.length === 4 || null, 3000);
    expect(r.commits[0]?.at).toBeGreaterThanOrEqual(290);
    expect(r.commits.flatMap((c) => c.gws)).toEqual(['a', 'b', 'c', 'd']);
  });

  it('a message the store keeps refusing is quarantined, and the rest go on', async () => {
    const r = rig({
      retryMs: 5,
      fail: (b) => b.some((x) => x.item.t !== 'quarantine' && x.item.gw === 'bad'),
    });
    for (const gw of ['a', 'bad', 'b']) r.push(gw);
    await waitFor(() => r.acked.length === 3 || null, 5000);
    expect(r.commits.flatMap((c) => c.gws)).toEqual(['a', 'Q', 'b']);
    expect(r.acked).toEqual(['a', 'bad', 'b']);
  });
});
