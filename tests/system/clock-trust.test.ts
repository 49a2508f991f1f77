import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Bus } from '../../src/core/bus.js';
import { ClockSyncChecker } from '../../src/core/clock-sync.js';
import { createLogger } from '../../src/core/logger.js';
import { Scheduler } from '../../src/core/scheduler.js';
import type { GatewayEvents } from '../../src/events.js';
import { AlertsRepo } from '../../src/store/alerts-repo.js';
import { RunsRepo } from '../../src/store/runs-repo.js';
import { StateRepo } from '../../src/store/state-repo.js';
import { Store } from '../../src/store/store.js';
import { AlertSink } from '../../src/system/alert-sink.js';
import { ClockService } from '../../src/system/clock-service.js';
import { ALERTS_RESTAMP, Restamper, RUNS_RESTAMP } from '../../src/system/restamper.js';
import { tempDir } from '../helpers/tmp.js';
import { FakeClock } from './fake-clock.js';

const log = createLogger({ level: 'silent' as 'fatal' });

describe('clock trust', () => {
  let tmp: ReturnType<typeof tempDir>;
  let clock: FakeClock;
  let store: Store;
  let alerts: AlertsRepo;
  let sink: AlertSink;
  let events: GatewayEvents['alert'][];
  let restamper: Restamper;

  beforeEach(() => {
    tmp = tempDir('kgw-clock-');
    clock = new FakeClock();
    store = new Store({ dataDir: tmp.path, log, clock });
    store.start();
    alerts = new AlertsRepo({ db: () => store.db, clock });
    const bus = new Bus<GatewayEvents>(() => undefined);
    events = [];
    bus.on('alert', (a) => events.push(a));
    sink = new AlertSink({ store, alerts, bus, log });
    restamper = new Restamper({ db: () => store.db, clock });
    restamper.register(ALERTS_RESTAMP);
  });

  afterEach(() => {
    store.stop();
    tmp.cleanup();
  });

  const rows = () =>
    store.db
      .prepare('SELECT code, at_wall, at_mono, kernel_boot, clock_synced, restamped FROM alerts ORDER BY id')
      .all() as Array<{
      code: string;
      at_wall: number;
      at_mono: number;
      clock_synced: number;
      restamped: number;
    }>;

  it('re-stamps rows of this kernel boot made while unsynced, from their monotonic time', () => {
    sink.raise({ code: 'a', severity: 'info', message: 'one' });
    clock.advance(1000);
    sink.raise({ code: 'b', severity: 'info', message: 'two' });
    // A row from an earlier boot cannot be repaired: its monotonic clock is another one.
    store.db
      .prepare(
        `INSERT INTO alerts (at_wall, at_mono, kernel_boot, clock_synced, code, severity, message)
         VALUES (5, 500, 'boot-old', 0, 'old', 'info', 'x')`,
      )
      .run();
    clock.advance(3000);
    // NTP steps the wall clock to the real time.
    const real = Date.parse('2026-11-28T05:00:00Z');
    clock.wall = real;
    clock.isSynced = true;
    expect(restamper.run()).toEqual({ alerts: 2 });
    const r = rows();
    expect(r[0]).toMatchObject({ code: 'a', at_wall: real - 4000, clock_synced: 1, restamped: 1 });
    expect(r[1]).toMatchObject({ code: 'b', at_wall: real - 3000, clock_synced: 1, restamped: 1 });
    expect(r[2]).toMatchObject({ code: 'old', at_wall: 5, clock_synced: 0, restamped: 0 });
    expect(restamper.run()).toEqual({ alerts: 0 });
  });

  it('re-stamps both stamps of a run (start and alive) through one generic target', () => {
    const runs = new RunsRepo({ db: () => store.db, clock });
    const r = new Restamper({ db: () => store.db, clock });
    r.register(RUNS_RESTAMP);
    runs.begin('run-1', '0.0.0');
    clock.advance(5000);
    runs.alive('run-1');
    clock.advance(1000);
    const real = Date.parse('2026-11-28T05:00:00Z');
    clock.wall = real;
    clock.isSynced = true;
    expect(r.run()).toEqual({ runs: 1 });
    const row = runs.latest();
    expect(row?.started_wall).toBe(real - 6000);
    expect(row?.alive_wall).toBe(real - 1000);
    expect(row?.clock_synced).toBe(true);
  });

  it('refuses SQL identifiers that are not plain names', () => {
    expect(() => restamper.register({ ...ALERTS_RESTAMP, table: 'alerts; DROP TABLE x' })).toThrow();
    expect(() => restamper.register({ ...ALERTS_RESTAMP, also: [{ wall: 'a=1', mono: 'b' }] })).toThrow();
  });

  it('ClockService records jumps with their size, persists last_jump_s, re-stamps on sync', async () => {
    const flag = join(tmp.path, 'synchronized');
    const checker = new ClockSyncChecker({ flagFile: flag, chronyc: '/nonexistent/chronyc' });
    const scheduler = new Scheduler({ clock, log });
    const state = new StateRepo({ db: () => store.db });
    const svc = new ClockService({
      checker,
      scheduler,
      clock,
      sink,
      restamper,
      state,
      log,
      config: { clock_check_interval_s: 3600, clock_jump_threshold_s: 2, clock_unsynced_alert_s: 60 },
    });
    await svc.start();
    try {
      expect(svc.live().synced).toBe(false);
      clock.advance(2000);
      svc.checkJump();
      expect(svc.live().last_jump_s).toBeNull();
      // Wall clock moved back three weeks; monotonic advanced 2 s.
      clock.mono += 2000;
      clock.wall += 2000 - 21 * 86_400_000;
      svc.checkJump();
      expect(svc.live().last_jump_s).toBe(-21 * 86_400);
      expect(events.at(-1)).toMatchObject({ code: 'clock_jump', details: { jump_s: -21 * 86_400 } });
      expect(state.get<{ last_jump_s: number }>('clock')?.value.last_jump_s).toBe(-21 * 86_400);
      const jumpRow = rows().find((r) => r.code === 'clock_jump');
      expect(jumpRow?.clock_synced).toBe(0);

      // Then NTP syncs: the flag file appears and the wall clock is right.
      const real = Date.parse('2026-11-28T05:00:00Z');
      clock.mono += 2000;
      clock.wall = real;
      clock.isSynced = true;
      writeFileSync(flag, '');
      svc.checkJump(); // +~3 weeks: another jump, and an immediate sync check
      await new Promise((r) => setTimeout(r, 50));
      expect(svc.live().synced).toBe(true);
      const after = rows().find((r) => r.code === 'clock_jump');
      expect(after?.restamped).toBe(1);
      expect(after?.at_wall).toBe(real - 2000);
      expect(events.some((e) => e.code === 'clock_synced')).toBe(true);
      expect(svc.live().restamped_rows).toBeGreaterThanOrEqual(1);
    } finally {
      svc.stop();
      scheduler.stop();
      rmSync(flag, { force: true });
    }
  });

  it('alerts once when the clock stays unsynced too long', async () => {
    const checker = new ClockSyncChecker({
      flagFile: join(tmp.path, 'none'),
      chronyc: '/nonexistent/chronyc',
    });
    const scheduler = new Scheduler({ clock, log });
    const svc = new ClockService({
      checker,
      scheduler,
      clock,
      sink,
      restamper,
      state: new StateRepo({ db: () => store.db }),
      log,
      config: { clock_check_interval_s: 1, clock_jump_threshold_s: 2, clock_unsynced_alert_s: 60 },
    });
    await svc.start();
    try {
      clock.advance(61_000);
      await new Promise((r) => setTimeout(r, 1300));
      clock.advance(61_000);
      await new Promise((r) => setTimeout(r, 1100));
      expect(events.filter((e) => e.code === 'clock_unsynced')).toHaveLength(1);
    } finally {
      svc.stop();
      scheduler.stop();
    }
  });
});
