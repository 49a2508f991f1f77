import { setMaxListeners } from 'node:events';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { Scheduler, TaskHandle } from '../core/scheduler.js';
import { type ProbeSpec, timeoutOf } from '../probes/spec-schema.js';
import type { Probe, ProbeDeps } from '../probes/types.js';
import type { DeviceConfig } from './config-schema.js';
import { CheckTracker } from './device-state.js';

/**
 * Device checks run every 30 s unless a check sets interval_s: a kiosk, printer or access
 * point that is down for a minute is found by the check or the heartbeat timeout alike, and
 * twenty devices polled every second would cost the box more CPU than the whole uplink ladder.
 */
export const DEVICE_CHECK_INTERVAL_S = 30;

export type ProbeFactory = (spec: ProbeSpec, deps: ProbeDeps) => Probe | undefined;

export interface DeviceChecksDeps {
  clock: Clock;
  log: Logger;
  scheduler: Scheduler;
  /** Builds a device check from its spec (the probe registry); undefined = type not available. */
  createProbe?: ProbeFactory | undefined;
  /** Called after each check of a device ran and its tracker recorded the result. */
  onChecked(deviceId: string): void;
}

interface Sweep {
  intervalMs: number;
  timeoutMs: number;
  checks: Array<{ deviceId: string; label: string; tracker: CheckTracker; probe: Probe }>;
}

/**
 * The active checks of every device, run in sweeps: all checks with the same interval and
 * deadline run together on one timer. Twenty devices polled one by one would wake the box
 * twenty times per interval, and each wake-up costs more CPU than the check. Each check's
 * results go to its CheckTracker (hysteresis); the device monitor judges the device.
 */
export class DeviceChecks {
  private readonly d: DeviceChecksDeps;
  private readonly sweeps = new Map<string, Sweep>();
  private tasks: TaskHandle[] = [];
  /** Probes may hold a process between runs (icmp keeps one fping): released at stop. */
  private probes: Probe[] = [];

  constructor(deps: DeviceChecksDeps) {
    this.d = deps;
  }

  /** Builds a device's checks and files them into sweeps; returns their trackers. */
  add(config: DeviceConfig): CheckTracker[] {
    const trackers: CheckTracker[] = [];
    config.checks.forEach((spec, i) => {
      let probe: Probe | undefined;
      try {
        probe = this.d.createProbe?.(spec, {
          clock: this.d.clock,
          log: this.d.log.child({ device: config.id }),
        });
      } catch (err) {
        this.d.log.warn({ err, device: config.id, type: spec.type }, 'check could not be built');
      }
      if (!probe) {
        this.d.log.warn({ device: config.id, type: spec.type }, 'check type not available; ignored');
        return;
      }
      this.probes.push(probe);
      const label = spec.name ?? `${spec.type}${config.checks.length > 1 ? `-${i + 1}` : ''}`;
      const tracker = new CheckTracker(label, config.down_after, config.up_after);
      trackers.push(tracker);
      const intervalMs = (spec.interval_s ?? DEVICE_CHECK_INTERVAL_S) * 1000;
      const timeoutMs = Math.min(intervalMs, timeoutOf(spec));
      const key = `${intervalMs}/${timeoutMs}`;
      const sweep = this.sweeps.get(key) ?? { intervalMs, timeoutMs, checks: [] };
      this.sweeps.set(key, sweep);
      sweep.checks.push({ deviceId: config.id, label, tracker, probe });
    });
    return trackers;
  }

  start(): void {
    for (const sw of this.sweeps.values()) this.startSweep(sw);
  }

  stop(): void {
    for (const t of this.tasks) t.cancel();
    this.tasks = [];
    for (const p of this.probes) {
      try {
        p.close?.();
      } catch (err) {
        this.d.log.warn({ err, type: p.spec.type }, 'device check did not close cleanly');
      }
    }
    this.probes = [];
    this.sweeps.clear();
  }

  /** One scheduler task per sweep; the probes get the sweep's deadline as their signal. */
  private startSweep(sw: Sweep): void {
    const runOne = async (c: Sweep['checks'][number], signal: AbortSignal) => {
      let ok = false;
      let problem: string | null = null;
      try {
        const r = await c.probe.run(signal);
        ok = r.outcome === 'ok';
        problem = ok ? null : r.outcome;
      } catch (err) {
        problem = signal.aborted ? 'timeout' : 'probe broken';
        if (!signal.aborted)
          this.d.log.warn({ err, device: c.deviceId, check: c.label }, 'device check could not run');
      }
      c.tracker.record(ok, problem);
      this.d.onChecked(c.deviceId);
    };
    this.tasks.push(
      this.d.scheduler.every({
        name: `device-checks-${sw.intervalMs / 1000}s`,
        coarse: true,
        intervalMs: sw.intervalMs,
        jitterMs: Math.min(1000, sw.intervalMs / 10),
        timeoutMs: sw.timeoutMs + 500,
        run: async (signal) => {
          // Every check of the sweep listens on the one deadline.
          setMaxListeners(10 + sw.checks.length * 2, signal);
          await Promise.all(sw.checks.map((c) => runOne(c, signal)));
        },
      }),
    );
  }
}
