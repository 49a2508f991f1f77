import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { Scheduler } from '../core/scheduler.js';
import type { Service } from '../core/service.js';
import { wibDay } from '../core/wib.js';
import type { InterfaceStatus } from '../status/types.js';
import type { Store } from '../store/store.js';
import type { TickWriter, WriteTick } from '../store/write-tick.js';
import type { UplinkConfig } from './config-schema.js';
import { readIfaceCounters } from './iface-counters.js';
import { defaultInterface, readIfaceFacts } from './iface-facts.js';
import { Throughput, type ThroughputResult } from './throughput.js';
import type { ThroughputRepo } from './throughput-repo.js';
import type { TrafficRepo } from './traffic-repo.js';

/** Which interface carries the default route, and what kind it is: a few file reads. */
const FACTS_MS = 60_000;
/** A WiFi uplink's SSID and signal: systeminformation runs subprocesses (~0.5 s), so rarely. */
const WIFI_MS = 60 * 60_000;
const TRAFFIC_WRITE_MS = 10 * 60_000;

/** Counter delta that survives a counter reset (interface re-created, reboot). */
export function counterDelta(prev: number | null, next: number): number {
  if (prev === null) return 0;
  return next >= prev ? next - prev : next;
}

/**
 * Interface facts (default interface, operstate, speed, bytes/s, WiFi SSID and signal) and
 * daily traffic totals. Runs at a modest interval, never on a probe's path. The default route,
 * the interface's kind and its byte counters are reads of /proc/net and /sys (iface-facts.ts,
 * iface-counters.ts); only a WiFi uplink's SSID and signal come from systeminformation,
 * hourly, loaded the first time a wireless uplink is seen (a wired box never loads it).
 */
export class InterfaceMonitor implements Service {
  readonly name = 'uplink-iface';
  private readonly deps: {
    config: UplinkConfig;
    clock: Clock;
    scheduler: Scheduler;
    store: Store;
    /** Traffic totals are written on it (every 5 minutes), in the one periodic commit; absent: every 10 minutes on their own. */
    writeTick?: Pick<WriteTick, 'add'>;
    log: Logger;
    traffic: TrafficRepo;
    /** Where each throughput result is kept for the page's chart (absent: only the latest, in memory). */
    throughputs?: ThroughputRepo;
    /** sysfs net directory (tests point it elsewhere); default /sys/class/net. */
    sysfsNet?: string;
    /** The kernel's routing tables (tests point it elsewhere); default /proc/net. */
    procNet?: string;
  };
  private readonly throughput: Throughput;
  private tasks: Array<{ cancel(): void }> = [];
  private state: InterfaceStatus = {
    name: null,
    operstate: null,
    speed_mbps: null,
    wireless: false,
    ssid: null,
    signal_dbm: null,
    rx_bps: null,
    tx_bps: null,
    today: null,
    throughput: null,
  };
  private counters: { rx: number; tx: number; mono: number } | null = null;
  /** When the WiFi SSID and signal were last asked (monotonic ms). */
  private wifiAskedMono: number | null = null;
  private pending = { day: '', rx: 0, tx: 0 };

  constructor(deps: InterfaceMonitor['deps']) {
    this.deps = deps;
    this.throughput = new Throughput({ config: deps.config.throughput, clock: deps.clock, log: deps.log });
  }

  start(): void {
    const { config, scheduler } = this.deps;
    if (config.interface_interval_s > 0) {
      this.tasks.push(
        scheduler.every({
          name: 'uplink:iface-facts',
          coarse: true,
          intervalMs: FACTS_MS,
          initialDelayMs: 2000,
          timeoutMs: 20_000,
          run: () => this.facts(),
        }),
        scheduler.every({
          name: 'uplink:iface-stats',
          coarse: true,
          intervalMs: config.interface_interval_s * 1000,
          jitterMs: 1000,
          initialDelayMs: 3000,
          run: () => this.stats(),
        }),
      );
      const tick = this.deps.writeTick;
      if (tick) {
        this.tasks.push({ cancel: tick.add(this.trafficWriter()) });
      } else {
        this.tasks.push(
          scheduler.every({
            name: 'uplink:traffic-write',
            coarse: true,
            intervalMs: TRAFFIC_WRITE_MS,
            run: () => this.writeTraffic(),
          }),
        );
      }
    }
    if (config.throughput.enabled && config.throughput.url) {
      this.tasks.push(
        scheduler.cron({
          name: 'uplink:throughput',
          expression: config.throughput.cron,
          jitterMs: 10 * 60_000,
          timeoutMs: config.throughput.timeout_s * 1000 + 1000,
          run: async (signal) => {
            const result = await this.throughput.run(signal);
            this.state = { ...this.state, throughput: result };
            this.keepThroughput(result);
          },
        }),
      );
    }
  }

  stop(): void {
    for (const t of this.tasks) t.cancel();
    this.tasks = [];
    this.writeTraffic();
  }

  private keepThroughput(result: ThroughputResult): void {
    try {
      this.deps.throughputs?.add(result);
    } catch (err) {
      this.deps.log.warn({ err }, 'cannot store the throughput result');
    }
  }

  current(): InterfaceStatus | null {
    return this.state.name === null && !this.state.throughput ? null : this.state;
  }

  private async facts(): Promise<void> {
    const name = defaultInterface(this.deps.procNet);
    if (!name) return;
    const facts = readIfaceFacts(name, this.deps.sysfsNet);
    if (!facts) return;
    const changed = name !== this.state.name;
    if (changed) this.counters = null;
    let { ssid, signal_dbm } = changed ? { ssid: null, signal_dbm: null } : this.state;
    const mono = this.deps.clock.monoMs();
    if (!facts.wireless) {
      ssid = null;
      signal_dbm = null;
    } else if (changed || this.wifiAskedMono === null || mono - this.wifiAskedMono >= WIFI_MS) {
      this.wifiAskedMono = mono;
      try {
        const wifi = await wifiLink(name);
        ssid = wifi.ssid;
        signal_dbm = wifi.signal_dbm;
      } catch (err) {
        this.deps.log.warn({ err }, 'WiFi SSID and signal unavailable');
      }
    }
    this.state = { ...this.state, name, ...facts, ssid, signal_dbm };
  }

  private stats(): void {
    const name = this.state.name;
    if (!name) return;
    try {
      const s = readIfaceCounters(name, this.deps.sysfsNet);
      if (!s) return;
      const mono = this.deps.clock.monoMs();
      const prev = this.counters;
      const rx = counterDelta(prev?.rx ?? null, s.rx_bytes);
      const tx = counterDelta(prev?.tx ?? null, s.tx_bytes);
      const secs = prev ? (mono - prev.mono) / 1000 : 0;
      this.counters = { rx: s.rx_bytes, tx: s.tx_bytes, mono };
      const day = wibDay(this.deps.clock.wallMs());
      if (this.pending.day && this.pending.day !== day) this.writeTraffic();
      this.pending = { day, rx: this.pending.rx + rx, tx: this.pending.tx + tx };
      const today = this.state.today?.day === day ? this.state.today : this.storedToday(day, name);
      this.state = {
        ...this.state,
        operstate: s.operstate ?? this.state.operstate,
        rx_bps: secs > 0 ? Math.round(rx / secs) : null,
        tx_bps: secs > 0 ? Math.round(tx / secs) : null,
        today: { day, rx_bytes: today.rx_bytes + rx, tx_bytes: today.tx_bytes + tx },
      };
    } catch (err) {
      this.deps.log.warn({ err }, 'interface counters unavailable');
    }
  }

  private storedToday(day: string, name: string): NonNullable<InterfaceStatus['today']> {
    try {
      const row = this.deps.traffic.get(day, name);
      return { day, rx_bytes: row?.rx_bytes ?? 0, tx_bytes: row?.tx_bytes ?? 0 };
    } catch {
      return { day, rx_bytes: 0, tx_bytes: 0 };
    }
  }

  /** Daily totals are written every 10 minutes, not every sample: the SD card matters more. */
  /** The write tick's part: today's traffic totals, let go once their commit is known. */
  private trafficWriter(): TickWriter {
    let wrote = false;
    return {
      name: 'uplink-traffic',
      write: () => {
        const p = this.pending;
        const name = this.state.name;
        wrote = false;
        if (!name || !p.day || (p.rx === 0 && p.tx === 0)) return;
        this.deps.traffic.add(p.day, name, p.rx, p.tx);
        wrote = true;
      },
      settled: (ok) => {
        if (ok && wrote) this.pending = { day: this.pending.day, rx: 0, tx: 0 };
        wrote = false;
      },
    };
  }

  private writeTraffic(): void {
    const p = this.pending;
    const name = this.state.name;
    if (!name || !p.day || (p.rx === 0 && p.tx === 0)) return;
    try {
      this.deps.store.batch(() => this.deps.traffic.add(p.day, name, p.rx, p.tx));
      this.pending = { day: p.day, rx: 0, tx: 0 };
    } catch (err) {
      this.deps.log.warn({ err }, 'could not store traffic totals');
    }
  }
}

/** A WiFi uplink's SSID and signal (systeminformation: large, loaded on the first call). */
async function wifiLink(name: string): Promise<{ ssid: string | null; signal_dbm: number | null }> {
  const si = (await import('systeminformation')).default;
  const all = await si.wifiConnections();
  const wifi = all.find((w) => w.iface === name) ?? all[0];
  return {
    ssid: wifi?.ssid ?? null,
    signal_dbm: typeof wifi?.signalLevel === 'number' ? wifi.signalLevel : null,
  };
}
