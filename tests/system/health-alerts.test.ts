import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Bus } from '../../src/core/bus.js';
import { createLogger } from '../../src/core/logger.js';
import type { GatewayEvents } from '../../src/events.js';
import { AlertsRepo } from '../../src/store/alerts-repo.js';
import { Store } from '../../src/store/store.js';
import { AlertSink } from '../../src/system/alert-sink.js';
import { HealthAlerts } from '../../src/system/health-alerts.js';
import type { HealthReading } from '../../src/system/health-collector.js';
import { decodeThrottled } from '../../src/system/throttled.js';
import { tempDir } from '../helpers/tmp.js';
import { FakeClock } from './fake-clock.js';

const log = createLogger({ level: 'fatal' });

function reading(over: Partial<HealthReading> = {}): HealthReading {
  return {
    cpu_load: 0.2,
    cpu_cores: 4,
    temperature_c: 50,
    throttled: false,
    throttled_flags: [],
    throttled_raw: '0x0',
    undervoltage_now: false,
    memory_used_pct: 40,
    disk_used_pct: 30,
    disk_free_mb: 5000,
    rss_mb: 60,
    process_cpu_pct: 0.1,
    uptime_s: 100,
    process_uptime_s: 50,
    db_mb: 1,
    wal_mb: 0.1,
    io_write_bytes: 0,
    ...over,
  };
}

function pi(raw: number): Partial<HealthReading> {
  const t = decodeThrottled(raw);
  return { throttled: t.active, throttled_flags: t.words, undervoltage_now: t.undervoltage_now };
}

describe('HealthAlerts (recorded readings → alerts with hysteresis)', () => {
  let tmp: ReturnType<typeof tempDir>;
  let store: Store;
  let events: GatewayEvents['alert'][];
  let alerts: HealthAlerts;

  beforeEach(() => {
    tmp = tempDir('kgw-halerts-');
    const clock = new FakeClock();
    store = new Store({ dataDir: tmp.path, log, clock });
    store.start();
    const bus = new Bus<GatewayEvents>(() => undefined);
    events = [];
    bus.on('alert', (a) => events.push(a));
    const sink = new AlertSink({ store, alerts: new AlertsRepo({ db: () => store.db, clock }), bus, log });
    alerts = new HealthAlerts({
      sink,
      limits: {
        temperature_warn_c: 80,
        disk_warn_pct: 90,
        memory_warn_pct: 90,
        write_budget_mb_per_day: 100,
      },
    });
  });

  afterEach(() => {
    store.stop();
    tmp.cleanup();
  });

  const seq = () => events.map((e) => `${e.code}:${e.details?.state}`);

  it('a hot afternoon: one raise at 80 °C, one clear under 75 °C, nothing for a missing sensor', () => {
    for (const t of [62, 79.9, 80.1, 83, 78, 76, null, 74.9, 70])
      alerts.health(reading({ temperature_c: t }), 1);
    expect(seq()).toEqual(['temperature_high:raised', 'temperature_high:cleared']);
    expect(events[0]?.severity).toBe('warning');
    expect(events[1]?.severity).toBe('info');
  });

  it('a weak power supply (0x50005 then 0x50000): undervoltage and throttling raised, then cleared', () => {
    alerts.health(reading(pi(0x0)), 1);
    alerts.health(reading(pi(0x50005)), 1);
    alerts.health(reading(pi(0x50005)), 1);
    expect(alerts.active()).toEqual(['undervoltage', 'throttled']);
    alerts.health(reading(pi(0x50000)), 1);
    expect(seq()).toEqual([
      'undervoltage:raised',
      'throttled:raised',
      'undervoltage:cleared',
      'throttled:cleared',
    ]);
    expect(events[0]?.severity).toBe('critical');
  });

  it('not a Pi: absent throttling never raises or clears anything', () => {
    alerts.health(reading({ throttled: null, throttled_flags: null, undervoltage_now: null }), 1);
    expect(events).toHaveLength(0);
  });

  it('disk, memory and the daily write budget', () => {
    alerts.health(reading({ disk_used_pct: 91, memory_used_pct: 95 }), 120);
    alerts.health(reading({ disk_used_pct: 88, memory_used_pct: 86 }), 130);
    alerts.health(reading({ disk_used_pct: 84, memory_used_pct: 84 }), 2);
    expect(seq()).toEqual([
      'disk_usage_high:raised',
      'memory_high:raised',
      'write_budget_exceeded:raised',
      'disk_usage_high:cleared',
      'memory_high:cleared',
      'write_budget_exceeded:cleared',
    ]);
  });

  it('disk states low and full are raised and cleared, and recorded in the alerts table', () => {
    alerts.diskState('ok', 500);
    alerts.diskState('low', 40);
    alerts.diskState('full', 1);
    alerts.diskState('full', 1);
    alerts.diskState('ok', 300);
    expect(seq()).toEqual(['disk_low:raised', 'disk_full:raised', 'disk_low:cleared', 'disk_full:cleared']);
    const n = (
      store.db.prepare("SELECT count(*) AS n FROM alerts WHERE code LIKE 'disk_%'").get() as { n: number }
    ).n;
    expect(n).toBe(4);
  });
});
