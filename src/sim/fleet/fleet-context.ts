import type { Config } from '../../config/schema.js';
import type { Logger } from '../../core/logger.js';
import type { Scheduler } from '../../core/scheduler.js';
import type { MqttConfig } from '../../report/config-schema.js';
import type { GroundTruth } from './ground-truth.js';
import type { Published } from './sent-log.js';
import type { FleetTime } from './sim-time.js';
import type { ConnectGate, Session, SessionDeps } from './village-session.js';

export interface FleetOptions {
  /** Simulated seconds between health messages (the gateway's mqtt.health_interval_s). */
  healthIntervalS: number;
  /** Kiosk sessions per kiosk per simulated hour during opening hours. */
  usagePerHour: number;
  /** Multiplies every random fault rate; 0 leaves only scripted faults. */
  faultRate: number;
  /** Acknowledged envelopes each village keeps for `resend`. */
  keep: number;
  /** Villages per MQTT connection: 1 = each its own socket and Will (shared-session.ts). */
  perConnection: number;
  /** Simulated seconds: the first connect after a boot waits up to this (mqtt.connect_delay_max_s). */
  connectDelayMaxS: number;
}

/** What the fleet lends each village: time, the event agenda, the broker settings, the totals. */
export interface FleetContext {
  time: FleetTime;
  /** Runs `fn` at simulated wall time `at` (the engine's agenda, in order of time). */
  at(at: number, fn: () => void): void;
  scheduler: Scheduler;
  log: Logger;
  mqtt: MqttConfig;
  /** A valid gateway config every village's commands see (gateway id and name swapped in). */
  config: Config;
  version: string;
  seed: string;
  options: FleetOptions;
  published: Published;
  /** What the simulator did to each village, for checking the regency's figures. */
  truth: GroundTruth;
  gate: ConnectGate;
  /** A village's broker session: its own connection, or a share of one (--per-connection). */
  session(deps: SessionDeps): Session;
  /** False once --duration has passed: no new samples, usage or faults, only their aftermath. */
  producing(): boolean;
  resent(n: number): void;
  /** A village's session came up (`first`: for the first time in this run) or went down. */
  connected(up: boolean, first?: boolean): void;
}
