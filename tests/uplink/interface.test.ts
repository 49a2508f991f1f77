import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { SystemClock } from '../../src/core/clock.js';
import { Scheduler } from '../../src/core/scheduler.js';
import { wibDay } from '../../src/core/wib.js';
import { Store } from '../../src/store/store.js';
import { type UplinkConfig, UplinkConfigSchema } from '../../src/uplink/config-schema.js';
import { InterfaceMonitor } from '../../src/uplink/interface-monitor.js';
import { TrafficRepo } from '../../src/uplink/traffic-repo.js';
import { waitFor } from '../helpers/net.js';
import { tempDir } from '../helpers/tmp.js';

describe("InterfaceMonitor (this machine's routing table and sysfs)", () => {
  const dir = tempDir('kgw-iface-');
  const log = pino({ level: 'silent' });
  const clock = new SystemClock(undefined, 'b');
  const store = new Store({ dataDir: dir.path, log, clock });
  const scheduler = new Scheduler({ clock, log });
  afterAll(() => {
    scheduler.stop();
    store.stop();
    dir.cleanup();
  });

  it('reads the default interface, its byte rates, and stores daily totals at stop', async () => {
    store.start();
    const config = Value.Default(UplinkConfigSchema, { interface_interval_s: 1 }) as UplinkConfig;
    const traffic = new TrafficRepo({ db: () => store.db });
    const mon = new InterfaceMonitor({ config, clock, scheduler, store, log, traffic });
    expect(mon.current()).toBeNull();
    mon.start();
    const seen = await waitFor(() => (mon.current()?.rx_bps !== null ? mon.current() : null), 15_000);
    expect(seen.name).toMatch(/\S/);
    expect(seen.today?.day).toBe(wibDay(Date.now()));
    expect(seen.rx_bps).toBeGreaterThanOrEqual(0);
    mon.stop();
    const rows = traffic.recent();
    if ((seen.today?.rx_bytes ?? 0) + (seen.today?.tx_bytes ?? 0) > 0) expect(rows.length).toBe(1);
    expect(rows.every((r) => r.iface === seen.name)).toBe(true);
  }, 20_000);

  it('follows the default route to a wireless interface, its facts read from the files given', async () => {
    // a routing table and a sysfs of our own: wlan0 carries the default route
    const net = join(dir.path, 'proc-net');
    const wlan = join(dir.path, 'sys', 'wlan0');
    mkdirSync(net);
    mkdirSync(join(wlan, 'wireless'), { recursive: true });
    mkdirSync(join(wlan, 'statistics'));
    writeFileSync(
      join(net, 'route'),
      'Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\nwlan0\t00000000\t0101A8C0\t0003\t0\t0\t600\t00000000\n',
    );
    writeFileSync(join(net, 'ipv6_route'), '');
    for (const [file, v] of Object.entries({
      operstate: 'up',
      'statistics/rx_bytes': '10',
      'statistics/tx_bytes': '20',
    }))
      writeFileSync(join(wlan, file), `${v}\n`);
    const config = Value.Default(UplinkConfigSchema, { interface_interval_s: 1 }) as UplinkConfig;
    const traffic = new TrafficRepo({ db: () => store.db });
    const sysfsNet = join(dir.path, 'sys');
    const mon = new InterfaceMonitor({
      config,
      clock,
      scheduler,
      store,
      log,
      traffic,
      sysfsNet,
      procNet: net,
    });
    mon.start();
    const seen = await waitFor(() => mon.current()?.name ?? null, 10_000);
    mon.stop();
    expect(seen).toBe('wlan0');
    // this machine has no WiFi: systeminformation was asked and found no SSID
    expect(mon.current()).toMatchObject({ operstate: 'up', wireless: true, speed_mbps: null, ssid: null });
  }, 15_000);
});
