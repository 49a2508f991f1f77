// Child process for bench/uplink-cpu.mjs: the uplink monitor (and device-like checks) as the
// daemon builds them, from dist/. Prints one JSON line per verdict change on stdout.
//   node bench/_uplink-harness.mjs '<json: { dataDir, uplink, checks }>'
import pino from 'pino';
import { Bus } from '../dist/core/bus.js';
import { SystemClock } from '../dist/core/clock.js';
import { Scheduler } from '../dist/core/scheduler.js';
import { createProbe } from '../dist/probes/registry.js';
import { ChangesRepo } from '../dist/devices/changes-repo.js';
import { DeviceMonitor } from '../dist/devices/device-monitor.js';
import { StateRepo } from '../dist/store/state-repo.js';
import { Store } from '../dist/store/store.js';
import { HistoryRepo } from '../dist/uplink/history-repo.js';
import { OutageRepo } from '../dist/uplink/outage-repo.js';
import { UplinkService } from '../dist/uplink/uplink-service.js';

const opts = JSON.parse(process.argv[2]);
const log = pino({ level: 'warn' });
const clock = new SystemClock(undefined, 'bench');
const scheduler = new Scheduler({ clock, log });
const store = new Store({ dataDir: opts.dataDir, log, clock });
store.start();
const db = () => store.db;
const bus = new Bus((_e, err) => log.error({ err }));
bus.on('link.changed', (l) => process.stdout.write(`${JSON.stringify({ ev: 'verdict', verdict: l.verdict, fault: l.fault_layer, t: Date.now() })}\n`));
const uplink = new UplinkService({
  config: opts.uplink,
  clock,
  scheduler,
  store,
  bus,
  log,
  state: new StateRepo({ db }),
  history: new HistoryRepo({ db }),
  outages: new OutageRepo({ db, clock }),
});
uplink.start();
// The devices: one http check each, run by the daemon's own device monitor (its sweeps). No
// heartbeat timeout: twenty devices going offline at once would be a burst of writes, not idle.
const devices = (opts.checks ?? []).map((spec, i) => ({
  id: `kiosk-${i + 1}`,
  name: `Kiosk ${i + 1}`,
  kind: 'kiosk',
  checks: [spec],
  down_after: 3,
  up_after: 2,
}));
const monitor = new DeviceMonitor({
  devices,
  clock,
  log,
  scheduler,
  store,
  bus,
  changes: new ChangesRepo({ db, clock }),
  state: new StateRepo({ db }),
  createProbe,
});
monitor.start();
process.stdout.write(`${JSON.stringify({ ev: 'ready', pid: process.pid })}\n`);
process.on('SIGTERM', () => {
  uplink.stop();
  monitor.stop();
  scheduler.stop();
  store.stop();
  process.stdout.write(`${JSON.stringify({ ev: 'stopped' })}\n`);
  process.exit(0);
});
