import type { MqttClient } from 'mqtt';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { StatusHub } from '../status/status-hub.js';
import type { DeviceStatus, LinkStatus } from '../status/types.js';
import type { Topics } from './topics.js';

export interface RetainedDeps {
  gateway: { id: string; name: string };
  clock: Clock;
  log: Logger;
  status: StatusHub;
  topics: Topics;
  runId: string;
  version: string;
  /** Seconds between health messages, published in the birth so a consumer can tell silence. */
  healthIntervalS?: number;
  /**
   * The broker username this box connects with (mqtt.username), published in the birth so the
   * regency sees which identity the box uses (a rotation confirms itself). Never the secret.
   */
  mqttUser?: string;
  commandNames(): string[];
}

const RETAIN = { qos: 1 as const, retain: true };

/**
 * The retained topics: `status` (birth), `link`, `device/{id}`. Holds the latest value of each
 * (from the bus, else from the status hub) and republishes all of it on every connect.
 */
export class RetainedState {
  private readonly d: RetainedDeps;
  private link: LinkStatus | undefined;
  private readonly devices = new Map<string, DeviceStatus>();

  constructor(deps: RetainedDeps) {
    this.d = deps;
  }

  /** Birth first, then link, then every device: what a consumer needs before any event. */
  publishAll(client: MqttClient): void {
    const fail = (err?: Error) => err && this.d.log.debug({ err }, 'retained publish not acknowledged');
    client.publish(this.d.topics.status, JSON.stringify(this.birth()), RETAIN, fail);
    client.publish(this.d.topics.link, JSON.stringify(this.currentLink()), RETAIN, fail);
    for (const dev of this.currentDevices())
      client.publish(this.d.topics.device(dev.id), JSON.stringify(dev), RETAIN, fail);
  }

  setLink(l: LinkStatus, client: MqttClient | undefined): void {
    this.link = l;
    client?.publish(this.d.topics.link, JSON.stringify(l), RETAIN);
  }

  setDevice(dev: DeviceStatus, client: MqttClient | undefined): void {
    this.devices.set(dev.id, dev);
    client?.publish(this.d.topics.device(dev.id), JSON.stringify(dev), RETAIN);
  }

  private birth() {
    const g = this.d.status.snapshot().gateway;
    return {
      online: true,
      gw: this.d.gateway.id,
      name: this.d.gateway.name,
      version: this.d.version,
      boot: this.d.runId,
      started_at: g.started_at,
      ts: new Date(this.d.clock.wallMs()).toISOString(),
      clock_synced: this.d.clock.synced(),
      commands: this.d.commandNames(),
      ...(this.d.healthIntervalS === undefined ? {} : { health_interval_s: this.d.healthIntervalS }),
      ...(this.d.mqttUser ? { mqtt_user: this.d.mqttUser } : {}),
    };
  }

  private currentLink(): LinkStatus {
    return this.link ?? this.d.status.snapshot().link;
  }

  private currentDevices(): DeviceStatus[] {
    const merged = new Map(this.d.status.snapshot().devices.map((dv) => [dv.id, dv]));
    for (const [id, dv] of this.devices) merged.set(id, dv);
    return [...merged.values()];
  }
}
