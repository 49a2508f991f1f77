import { describe, expect, it } from 'vitest';
import { wibDay } from '../../src/core/wib.js';
import { DiskGuard } from '../../src/system/disk-guard.js';
import { Flag, Hysteresis } from '../../src/system/hysteresis.js';
import { JumpDetector } from '../../src/system/jump-detector.js';
import { WriteMeter } from '../../src/system/write-meter.js';

const MB = 1024 * 1024;

describe('DiskGuard', () => {
  it('stops low-value writes below the floor, durable ones below the reserve, recovers with a margin', () => {
    const g = new DiskGuard({ floorBytes: 50 * MB });
    expect(g.update(200 * MB)).toBe('ok');
    expect(g.allowLowValueWrites()).toBe(true);
    expect(g.update(49 * MB)).toBe('low');
    expect(g.allowLowValueWrites()).toBe(false);
    expect(g.canAcceptDurable()).toBe(true);
    expect(g.update(51 * MB)).toBe('low'); // no flapping at the floor
    expect(g.update(4 * MB)).toBe('full');
    expect(g.canAcceptDurable()).toBe(false);
    expect(g.update(8 * MB)).toBe('full');
    expect(g.update(20 * MB)).toBe('low');
    expect(g.update(61 * MB)).toBe('ok');
  });

  it('a SQLITE_FULL report refuses durable writes until space returns', () => {
    const g = new DiskGuard({ floorBytes: 50 * MB });
    g.update(100 * MB);
    g.noteFull();
    expect(g.canAcceptDurable()).toBe(false);
    expect(() => g.requireDurable()).toThrow(expect.objectContaining({ code: 'GW_ERR_STORE_FULL' }));
    expect(g.update(100 * MB)).toBe('ok');
    expect(() => g.requireDurable()).not.toThrow();
    expect(g.canAcceptDurable()).toBe(true);
  });
});

describe('Hysteresis', () => {
  it('raises once, clears once, ignores absent readings', () => {
    const h = new Hysteresis(80, 75);
    const seq = [70, 81, 85, 79, 76, null, 75, 74, 80].map((v) => h.update(v));
    expect(seq).toEqual([null, 'raise', null, null, null, null, 'clear', null, 'raise']);
  });

  it('Flag edges', () => {
    const f = new Flag();
    expect([true, true, null, false, false].map((v) => f.update(v))).toEqual([
      'raise',
      null,
      null,
      'clear',
      null,
    ]);
  });
});

describe('JumpDetector', () => {
  it('reports signed jumps beyond the threshold only', () => {
    const j = new JumpDetector(2000);
    expect(j.observe(1_000_000, 10)).toBeNull();
    expect(j.observe(1_002_500, 2_510)).toBeNull(); // 2.5 s on both clocks
    expect(j.observe(1_004_500 + 1000, 4_510)).toBeNull(); // 1 s drift: under threshold
    const back = j.observe(1_007_500 - 21 * 86_400_000, 6_510);
    expect(back).toBe(-21 * 86_400);
    const fwd = j.observe(1_009_500 + 5 * 365 * 86_400_000, 8_510);
    expect(fwd).toBeGreaterThan(5 * 365 * 86_400);
  });
});

describe('WriteMeter', () => {
  it('accumulates the process counter per day, across a restart via seed', () => {
    const m = new WriteMeter();
    m.seed('2026-11-28', 10 * MB);
    expect(m.sample(1 * MB, '2026-11-28')).toBe(11 * MB);
    expect(m.sample(3 * MB, '2026-11-28')).toBe(13 * MB);
    expect(m.sample(4 * MB, '2026-11-29')).toBe(1 * MB);
    expect(m.today()).toEqual({ day: '2026-11-29', bytes: 1 * MB });
  });

  it('WIB days', () => {
    expect(wibDay(Date.parse('2026-11-28T16:59:00Z'))).toBe('2026-11-28');
    expect(wibDay(Date.parse('2026-11-28T17:00:00Z'))).toBe('2026-11-29');
  });
});
