import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { Scheduler, TaskHandle } from '../core/scheduler.js';
import type { Service } from '../core/service.js';
import type { GatewayBus } from '../events.js';
import type { DeviceState, DeviceStatus } from '../status/types.js';
import type { SectionState } from '../store/live-snapshot.js';
import type { Store } from '../store/store.js';
import type { ChangesRepo } from './changes-repo.js';
import type { DeviceConfig } from './config-schema.js';
import { DeviceChecks, type ProbeFactory } from './device-checks.js';
import { type CheckTracker, evaluate, heartbeatTrouble } from './device-state.js';
import type { HeartbeatBody, Telemetry } from './push-schemas.js';

export type { ProbeFactory } from './device-checks.js';

export interface DeviceMonitorDeps {
  devices: readonly DeviceConfig[];
  clock: Clock;
  log: Logger;
  scheduler: Scheduler;
  store: Store;
  bus: GatewayBus;
  changes: ChangesRepo;
  state: SectionState;
  /** Builds a device check from its spec (the probe registry); undefined = type not available. */
  createProbe?: ProbeFactory;
  /** How often last-heartbeat stamps are written to current_state (state changes: at once). */
  persistEveryMs?: number;
}

/** A device as the page and the API show it: the status entry plus what it last pushed. */
export interface DeviceView extends DeviceStatus {
  app_version: string | null;
  uptime_s: number | null;
  telemetry: Telemetry | null;
  errors: NonNullable<HeartbeatBody['errors']> | null;
  checks: Array<{ label: string; state: string; problem: string | null }>;
}

interface Runtime {
  config: DeviceConfig;
  state: DeviceState;
  since: string | null;
  reason: string | null;
  lastHeartbeatMono: number | undefined;
  lastHeartbeatWall: number | undefined;
  heartbeat: HeartbeatBody | undefined;
  trouble: string | null;
  checks: CheckTracker[];
}

/**
 * Each device's state: online / degraded / offline / unknown, from heartbeats (timeout on the
 * monotonic clock) and active checks (with hysteresis). Every change is logged with its
 * reason, emitted as `device.changed` and persisted to current_state 'devices'.
 */
export class DeviceMonitor implements Service {
  readonly name = 'devices';
  private readonly d: DeviceMonitorDeps;
  private readonly devices = new Map<string, Runtime>();
  private readonly checks: DeviceChecks;
  private tasks: TaskHandle[] = [];
  private startedMono = 0;
  private dirty = false;

  constructor(deps: DeviceMonitorDeps) {
    this.d = deps;
    this.checks = new DeviceChecks({
      clock: deps.clock,
      log: deps.log,
      scheduler: deps.scheduler,
      createProbe: deps.createProbe,
      onChecked: (id) => {
        const rt = this.devices.get(id);
        if (rt) this.reevaluate(rt);
      },
    });
  }

  start(): void {
    const { d } = this;
    this.startedMono = d.clock.monoMs();
    const wall = d.clock.wallMs();
    for (const config of d.devices) {
      this.devices.set(config.id, {
        config,
        state: 'unknown',
        since: new Date(wall).toISOString(),
        reason: 'not heard from since start',
        lastHeartbeatMono: undefined,
        lastHeartbeatWall: undefined,
        heartbeat: undefined,
        trouble: null,
        checks: [],
      });
    }
    // The log gets an "unknown" mark at every start so downtime of the gateway itself is
    // not counted as the device's availability or outage.
    d.store.batch(() =>
      d.changes.add(
        [...this.devices.values()].map((r) => ({
          deviceId: r.config.id,
          state: 'unknown',
          reason: 'gateway started',
        })),
      ),
    );
    this.persist();
    const timeouts = d.devices.flatMap((c) => (c.heartbeat_timeout_s ? [c.heartbeat_timeout_s * 1000] : []));
    if (timeouts.length > 0) {
      // A tenth of the shortest timeout (at most 10 s): "offline" is at most 10 % late, and a
      // 120 s timeout costs one wake-up every 10 s instead of every second.
      const tick = Math.max(100, Math.min(10_000, Math.min(...timeouts) / 10));
      this.tasks.push(
        d.scheduler.every({
          name: 'devices-timeouts',
          intervalMs: tick,
          coarse: true,
          run: () => this.reevaluateAll(),
        }),
      );
    }
    this.tasks.push(
      d.scheduler.every({
        name: 'devices-persist',
        coarse: true,
        // State changes are written when they happen; this only refreshes the copy `kampung-gw
        // status` reads (last heartbeats), a commit every 5 minutes instead of every minute.
        intervalMs: d.persistEveryMs ?? 5 * 60_000,
        run: () => {
          if (this.dirty) this.persist();
        },
      }),
    );
    for (const rt of this.devices.values()) rt.checks = this.checks.add(rt.config);
    this.checks.start();
  }

  stop(): void {
    for (const t of this.tasks) t.cancel();
    this.tasks = [];
    this.checks.stop();
    if (this.devices.size > 0) this.persist();
  }

  has(deviceId: string): boolean {
    return this.devices.has(deviceId);
  }

  heartbeat(deviceId: string, body: HeartbeatBody): void {
    const rt = this.devices.get(deviceId);
    if (!rt) return;
    rt.lastHeartbeatMono = this.d.clock.monoMs();
    rt.lastHeartbeatWall = this.d.clock.wallMs();
    rt.heartbeat = body;
    rt.trouble = heartbeatTrouble(body);
    this.dirty = true;
    this.reevaluate(rt);
  }

  statuses(): DeviceStatus[] {
    return [...this.devices.values()].map((rt) => this.status(rt));
  }

  view(deviceId: string): DeviceView | undefined {
    const rt = this.devices.get(deviceId);
    if (!rt) return undefined;
    const hb = rt.heartbeat;
    return {
      ...this.status(rt),
      app_version: hb?.app_version ?? null,
      uptime_s: hb?.uptime_s ?? null,
      telemetry: hb?.telemetry ?? null,
      errors: hb?.errors ?? null,
      checks: rt.checks.map((c) => ({ label: c.label, state: c.state, problem: c.lastProblem })),
    };
  }

  /** Re-derives every state now (the timeout tick; tests call it after moving a fake clock). */
  reevaluateAll(): void {
    for (const rt of this.devices.values()) this.reevaluate(rt);
  }

  private status(rt: Runtime): DeviceStatus {
    return {
      id: rt.config.id,
      name: rt.config.name,
      kind: rt.config.kind,
      state: rt.state,
      since: rt.since,
      reason: rt.reason,
      last_heartbeat:
        rt.lastHeartbeatWall === undefined ? null : new Date(rt.lastHeartbeatWall).toISOString(),
    };
  }

  private reevaluate(rt: Runtime): void {
    const c = rt.config;
    const v = evaluate({
      nowMono: this.d.clock.monoMs(),
      startedMono: this.startedMono,
      heartbeatTimeoutMs: c.heartbeat_timeout_s === undefined ? undefined : c.heartbeat_timeout_s * 1000,
      lastHeartbeatMono: rt.lastHeartbeatMono,
      trouble: rt.trouble,
      checks: rt.checks,
    });
    if (v.state === rt.state && v.reason === rt.reason) return;
    // A new reason within the same state (paper low → paper out) is logged and announced
    // like a state change, but `since` keeps the start of the period.
    const wall = this.d.clock.wallMs();
    if (v.state !== rt.state) rt.since = new Date(wall).toISOString();
    rt.state = v.state;
    rt.reason = v.reason;
    this.d.log.info({ device: c.id, state: v.state, reason: v.reason }, 'device state changed');
    try {
      this.d.store.batch(() =>
        this.d.changes.add([{ deviceId: c.id, state: v.state, reason: v.reason }], wall),
      );
    } catch (err) {
      this.d.log.error({ err, device: c.id }, 'could not log device state change');
    }
    this.persist();
    this.d.bus.emit('device.changed', this.status(rt));
  }

  private persist(): void {
    this.dirty = false;
    try {
      this.d.state.put('devices', this.statuses(), this.d.clock.wallMs());
    } catch (err) {
      this.d.log.warn({ err }, 'could not persist device states');
    }
  }
}
