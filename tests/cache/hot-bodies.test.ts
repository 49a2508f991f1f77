import { describe, expect, it } from 'vitest';
import { HotBodies } from '../../src/cache/hot-bodies.js';

const body = (fill: string) => Buffer.alloc(100, fill);
const present = (hot: HotBodies, ids: number[]) => ids.filter((id) => hot.get(id) !== undefined);

describe('HotBodies (in-memory LRU of bodies)', () => {
  it('evicts the least recently used, whether it was last used by get or by set', () => {
    const hot = new HotBodies(400);
    hot.set(1, body('a'));
    hot.set(2, body('b'));
    hot.set(3, body('c'));
    expect(hot.get(1)?.[0]).toBe(0x61); // recency: 2, 3, 1
    expect(hot.get(1)?.[0]).toBe(0x61); // a repeated hit on the newest changes nothing
    hot.set(4, body('d')); // 2, 3, 1, 4
    expect(hot.get(1)).toBeDefined(); // 2, 3, 4, 1: a set makes 4 the newest, so 1 must move
    hot.set(5, body('e')); // over budget: 2 goes
    hot.set(6, body('f')); // 3 goes
    hot.set(7, body('g')); // 4 goes, not 1
    expect(hot.get(4)).toBeUndefined();
    expect(present(hot, [1, 2, 3, 5, 6, 7])).toEqual([1, 5, 6, 7]);
  });

  it('forgets a deleted or cleared body', () => {
    const hot = new HotBodies(400);
    hot.set(1, body('a'));
    hot.set(2, body('b'));
    hot.delete(2);
    expect(hot.get(2)).toBeUndefined();
    hot.set(3, body('c'));
    hot.set(4, body('d'));
    hot.set(5, body('e'));
    hot.set(6, body('f')); // 1 goes (the deleted 2 counts for nothing)
    expect(present(hot, [1, 3, 4, 5, 6])).toEqual([3, 4, 5, 6]);
    hot.clear();
    expect(present(hot, [3, 4, 5, 6])).toEqual([]);
  });

  it('never keeps a body larger than a quarter of its budget', () => {
    const hot = new HotBodies(399);
    hot.set(1, body('a'));
    expect(hot.get(1)).toBeUndefined();
  });
});
