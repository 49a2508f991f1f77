import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/core/logger.js';
import { Store } from '../../src/store/store.js';
import type { HealthReading } from '../../src/system/health-collector.js';
import { HealthHourRepo, HealthHours } from '../../src/system/health-hours.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { tempDir } from '../helpers/tmp.js';

const log = createLogger({ level: 'silent' as 'fatal' });
const H = 3_600_000;
const reading = (r: Partial<HealthReading>): HealthReading =>
  ({
    temperature_c: null,
    memory_used_pct: null,
    disk_used_pct: null,
    throttled: null,
    undervoltage_now: null,
    ...r,
  }) as HealthReading;

describe('hourly box health (the week of sparklines)', () => {
  let tmp: ReturnType<typeof tempDir>;
  let store: Store;
  let clock: FakeClock;
  beforeEach(() => {
    tmp = tempDir('kgw-health-hours-');
    clock = new FakeClock();
    store = new Store({ dataDir: tmp.path, log, clock });
    store.start();
  });
  afterEach(() => {
    store.stop();
    tmp.cleanup();
  });

  it('hands back an hour once the next starts; a part written at stop and the rest after a restart add up', () => {
    const repo = new HealthHourRepo({ db: () => store.db });
    const t0 = Math.floor(clock.wall / H) * H;
    const before = new HealthHours();
    expect(
      before.add(t0 + 60_000, reading({ temperature_c: 50, memory_used_pct: 40, undervoltage_now: true })),
    ).toBeNull();
    repo.add(before.take()!); // the daemon stops mid-hour
    const after = new HealthHours();
    expect(
      after.add(t0 + 30 * 60_000, reading({ temperature_c: 60, memory_used_pct: 35, throttled: true })),
    ).toBeNull();
    const done = after.add(t0 + H + 1000, reading({ temperature_c: 45 }));
    expect(done?.t).toBe(t0);
    repo.add(done!);
    const [row] = repo.since(t0);
    expect(row).toMatchObject({
      t: t0,
      n: 2,
      temp_n: 2,
      temp_sum: 110,
      temp_max: 60,
      mem_max: 40,
      undervoltage_n: 1,
      throttled_n: 1,
    });
    expect(after.peek()?.t).toBe(t0 + H);
  });

  it('keeps eight days: writing an hour drops the ones older than that', () => {
    const repo = new HealthHourRepo({ db: () => store.db });
    const hours = new HealthHours();
    const t0 = Math.floor(clock.wall / H) * H - 10 * 24 * H;
    hours.add(t0, reading({ temperature_c: 40 }));
    repo.add(hours.take()!);
    hours.add(t0 + 9 * 24 * H, reading({ temperature_c: 41 }));
    repo.add(hours.take()!);
    expect(repo.since(0).map((r) => r.t)).toEqual([t0 + 9 * 24 * H]);
  });
});
