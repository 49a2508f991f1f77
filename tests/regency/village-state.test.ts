import { describe, expect, it } from 'vitest';
import { SeqLedger } from '../../src/regency/seq-ledger.js';
import { type StateInputs, villageState } from '../../src/regency/village-state.js';

const base: StateInputs = { online: true, verdict: 'up', silent: false, heard: true };

describe('village state', () => {
  it.each([
    [{ heard: false, online: null, verdict: null }, 'unknown'],
    [{}, 'online'],
    [{ online: null, verdict: null }, 'online'],
    [{ verdict: 'unknown' }, 'online'],
    [{ verdict: 'degraded' }, 'degraded'],
    [{ verdict: 'down' }, 'down'],
    [{ verdict: 'down', silent: true }, 'silent'],
    [{ online: false, silent: true }, 'offline'],
    [{ online: false, verdict: 'down' }, 'offline'],
  ] as Array<[Partial<StateInputs>, string]>)('%j → %s', (over, want) => {
    expect(villageState({ ...base, ...over })).toBe(want);
  });
});

describe('seq ledger', () => {
  it('opens gaps above the max and below the min, splits and fills them, reports covered seqs', () => {
    const l = new SeqLedger(null, null, []);
    expect(l.receive(10, 0, 'd')).toBe('new');
    expect(l.receive(14, 0, 'd')).toBe('new');
    expect(l.receive(7, 0, 'd')).toBe('new');
    expect(l.openGaps().map((g) => [g.lo, g.hi])).toEqual([
      [8, 9],
      [11, 13],
    ]);
    expect(l.receive(12, 0, 'd')).toBe('new');
    expect(l.openGaps().map((g) => [g.lo, g.hi])).toEqual([
      [8, 9],
      [11, 11],
      [13, 13],
    ]);
    expect(l.receive(12, 0, 'd')).toBe('covered');
    expect(l.receive(10, 0, 'd')).toBe('covered');
    for (const s of [8, 9, 11, 13]) l.receive(s, 0, 'd');
    expect(l.openGaps()).toEqual([]);
    expect([l.min, l.max]).toEqual([7, 14]);
  });

  it('reports what to write back for gaps loaded from the store', () => {
    const l = new SeqLedger(1, 20, [
      { id: 1, lo: 3, hi: 5, openedMs: 0, openedDay: 'd' },
      { id: 2, lo: 8, hi: 8, openedMs: 0, openedDay: 'd' },
    ]);
    l.receive(4, 1, 'd');
    l.receive(8, 1, 'd');
    l.receive(25, 1, 'd');
    const ch = l.changes();
    expect(ch.updated.map((g) => [g.id, g.lo, g.hi])).toEqual([[1, 3, 3]]);
    expect(ch.filled.map((g) => g.id)).toEqual([2]);
    expect(ch.inserted.map((g) => [g.lo, g.hi]).sort()).toEqual([
      [21, 24],
      [5, 5],
    ]);
  });
});
