import { afterEach, describe, expect, it } from 'vitest';
import { SystemClock } from '../../src/core/clock.js';
import { Scheduler } from '../../src/core/scheduler.js';
import { sleep } from '../helpers/net.js';
import { memoryLogger } from '../helpers/test-log.js';

let scheduler: Scheduler | undefined;
afterEach(() => scheduler?.stop());

function make() {
  const { log, lines } = memoryLogger();
  scheduler = new Scheduler({ clock: new SystemClock(), log });
  return { s: scheduler, lines };
}

describe('Scheduler', () => {
  it('never overlaps runs of one task, even when a run outlasts the interval', async () => {
    const { s } = make();
    let active = 0;
    let maxActive = 0;
    let runs = 0;
    s.every({
      name: 'slow',
      intervalMs: 10,
      timeoutMs: 1000,
      initialDelayMs: 0,
      run: async () => {
        active++;
        maxActive = Math.max(maxActive, active);
        await sleep(35);
        active--;
        runs++;
      },
    });
    await sleep(300);
    expect(maxActive).toBe(1);
    expect(runs).toBeGreaterThanOrEqual(4);
  });

  it('fixedRate keeps the phase: runs stay on multiples of the interval, a slow run skips beats', async () => {
    const { s } = make();
    const clock = new SystemClock();
    const t0 = clock.monoMs();
    const at: number[] = [];
    s.every({
      name: 'beat',
      intervalMs: 50,
      fixedRate: true,
      initialDelayMs: 0,
      run: async () => {
        at.push(clock.monoMs() - t0);
        // A busy beat now and then (longer than the interval) must not shift the later ones.
        if (at.length === 3) await sleep(70);
        else await sleep(15);
      },
    });
    await sleep(560);
    expect(at.length).toBeGreaterThanOrEqual(8);
    // Every run starts near a multiple of 50 ms (timers may fire late, never drift).
    for (const t of at) expect(t % 50).toBeLessThan(35);
    // Beat 3 ran 70 ms: the beat due while it ran was skipped (no overlap, no catch-up burst),
    // and the next one is on the grid again. Measured from when beat 3 really started, so a
    // timer that fired late on a busy box does not fail the test.
    const slowEnd = at[2]! + 70;
    expect(at[3]!).toBeGreaterThanOrEqual(slowEnd - 2);
    expect(at[3]! - (Math.floor(at[2]! / 50) * 50 + 50)).toBeGreaterThanOrEqual(50 - 2);
    expect(at[4]! - at[3]!).toBeGreaterThanOrEqual(35);
  });

  it('aborts a run at its deadline and keeps the schedule going', async () => {
    const { s, lines } = make();
    const reasons: string[] = [];
    s.every({
      name: 'hangs',
      intervalMs: 30,
      timeoutMs: 40,
      initialDelayMs: 0,
      run: (signal) =>
        new Promise<void>((resolve) => {
          signal.addEventListener('abort', () => {
            reasons.push(String((signal.reason as Error).message));
            resolve();
          });
        }),
    });
    await sleep(250);
    expect(reasons.length).toBeGreaterThanOrEqual(2);
    expect(reasons[0]).toMatch(/hangs exceeded 40 ms/);
    expect(lines().some((l) => l.msg === 'task exceeded its deadline' && l.task === 'hangs')).toBe(true);
  });

  it('isolates a failing run: it is logged and the task runs again', async () => {
    const { s, lines } = make();
    let runs = 0;
    s.every({
      name: 'boom',
      intervalMs: 20,
      initialDelayMs: 0,
      run: () => {
        runs++;
        throw new Error('kaput');
      },
    });
    await sleep(120);
    expect(runs).toBeGreaterThanOrEqual(3);
    expect(lines().filter((l) => l.msg === 'task failed').length).toBe(runs);
  });

  it('adds jitter within bounds and first runs at a random point of the interval', async () => {
    const seq = [0.99, 0.5, 0.99, 0.99, 0.99, 0.99];
    let i = 0;
    scheduler = new Scheduler({
      clock: new SystemClock(),
      log: memoryLogger().log,
      random: () => seq[i++ % seq.length]!,
    });
    const at: number[] = [];
    const t0 = performance.now();
    scheduler.every({
      name: 'j',
      intervalMs: 40,
      jitterMs: 40,
      run: () => void at.push(performance.now() - t0),
    });
    await sleep(260);
    // First run near 0.99 × 40 ms; later gaps are 40 ms + up to 40 ms jitter, never less than 40.
    expect(at[0]).toBeGreaterThanOrEqual(35);
    for (let k = 1; k < at.length; k++) expect(at[k]! - at[k - 1]!).toBeGreaterThanOrEqual(38);
    expect(at.length).toBeGreaterThanOrEqual(2);
  });

  it('trigger() runs now; cancel() and stop() end all runs', async () => {
    const { s } = make();
    let runs = 0;
    const h = s.every({ name: 't', intervalMs: 60_000, initialDelayMs: 60_000, run: () => void runs++ });
    h.trigger();
    await sleep(20);
    expect(runs).toBe(1);
    expect(h.lastRunMono()).toBeTypeOf('number');
    h.cancel();
    h.trigger();
    await sleep(20);
    expect(runs).toBe(1);
    let other = 0;
    s.every({ name: 'o', intervalMs: 10, initialDelayMs: 0, run: () => void other++ });
    await sleep(30);
    s.stop();
    const frozen = other;
    await sleep(50);
    expect(other).toBe(frozen);
  });

  describe('coarse tasks (the shared 1 s tick)', () => {
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

    it('run together on one timer, on a fixed phase, each at its own whole-second interval', async () => {
      const { s } = make();
      const clock = new SystemClock();
      const before = timers();
      const t0 = clock.monoMs();
      const at = { a: [] as number[], b: [] as number[], c: [] as number[] };
      const add = (name: 'a' | 'b' | 'c', intervalMs: number, initialDelayMs?: number) =>
        s.every({
          name,
          intervalMs,
          initialDelayMs,
          coarse: true,
          run: () => void at[name].push(clock.monoMs() - t0),
        });
      add('a', 1000, 0);
      add('b', 2000, 0);
      add('c', 1500, 900); // rounded up: every 2 s, first at 1 s
      // Three coarse tasks, one timer between them (a task of its own would add one each).
      expect(timers() - before).toBe(1);
      await sleep(4300);
      expect(at.a).toHaveLength(5); // 0, 1, 2, 3, 4 s
      expect(at.b).toHaveLength(3); // 0, 2, 4 s
      expect(at.c).toHaveLength(2); // 1, 3 s
      // Every run is on the phase of the first tick (whole seconds from t0, timers fire late, never drift)...
      // (The bound is for a busy test box, where a timer may fire 100 ms late now and then.)
      for (const t of [...at.a, ...at.b, ...at.c]) expect(t % 1000).toBeLessThan(150);
      // ...and b's and c's runs happen in the same wake-up as one of a's.
      for (const t of [...at.b, ...at.c])
        expect(Math.min(...at.a.map((x) => Math.abs(x - t)))).toBeLessThan(5);
    });

    it('abort a run at its deadline in whole ticks and never overlap it', async () => {
      const { s, lines } = make();
      const clock = new SystemClock();
      const t0 = clock.monoMs();
      const started: number[] = [];
      const aborted: number[] = [];
      s.every({
        name: 'hangs',
        intervalMs: 1000,
        timeoutMs: 1200, // enforced at the first tick at least 1.2 s after the start: 2 s
        initialDelayMs: 0,
        coarse: true,
        run: (signal) =>
          new Promise<void>((resolve) => {
            started.push(clock.monoMs() - t0);
            signal.addEventListener('abort', () => {
              aborted.push(clock.monoMs() - t0);
              resolve();
            });
          }),
      });
      await sleep(4300);
      // Started at 0, aborted at 2 s; due again at once, so restarted on the next tick (3 s).
      expect(started.length).toBe(2);
      expect(aborted[0]).toBeGreaterThanOrEqual(1990);
      expect(aborted[0]).toBeLessThan(2100);
      expect(started[1]).toBeGreaterThanOrEqual(2990);
      expect(lines().some((l) => l.msg === 'task exceeded its deadline' && l.task === 'hangs')).toBe(true);
    });

    it('trigger() runs at once; cancelling the last coarse task stops the timer; sub-second ones keep their own', async () => {
      const { s } = make();
      const before = timers();
      let runs = 0;
      const h = s.every({
        name: 't',
        intervalMs: 60_000,
        initialDelayMs: 60_000,
        coarse: true,
        run: () => void runs++,
      });
      h.trigger();
      await sleep(20);
      expect(runs).toBe(1);
      expect(h.lastRunMono()).toBeTypeOf('number');
      h.cancel();
      h.trigger();
      await sleep(20);
      expect(runs).toBe(1);
      expect(timers()).toBe(before);
      // A trigger during a run runs it again as soon as that run ends, not at the next tick.
      const ends: number[] = [];
      const starts: number[] = [];
      const busy = s.every({
        name: 'busy',
        intervalMs: 60_000,
        initialDelayMs: 60_000,
        coarse: true,
        run: async () => {
          starts.push(performance.now());
          await sleep(100);
          ends.push(performance.now());
        },
      });
      busy.trigger();
      await sleep(20);
      busy.trigger();
      await sleep(300);
      expect(starts).toHaveLength(2);
      expect(starts[1]! - ends[0]!).toBeLessThan(50);
      busy.cancel();
      let fast = 0;
      s.every({ name: 'fast', intervalMs: 20, initialDelayMs: 0, coarse: true, run: () => void fast++ });
      await sleep(110);
      expect(fast).toBeGreaterThanOrEqual(3);
    });
  });
});
