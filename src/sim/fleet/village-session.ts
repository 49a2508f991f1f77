import mqtt, { type IPublishPacket, type MqttClient } from 'mqtt';
import type { Scheduler } from '../../core/scheduler.js';
import { brokerOptions } from '../../report/broker-url.js';
import type { MqttConfig } from '../../report/config-schema.js';
import { gatewayClientOptions } from '../../report/connection.js';
import { cleanStopPayload, willPayload } from '../../report/event-payloads.js';

/**
 * Bounds how many CONNECTs are in progress at once, so two thousand villages powering up
 * together queue for the broker instead of failing on their own connect timeouts.
 */
export class ConnectGate {
  private readonly limit: number;
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(limit: number) {
    this.limit = limit;
  }

  acquire(run: () => void): void {
    if (this.running < this.limit) {
      this.running++;
      run();
    } else this.waiting.push(run);
  }

  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.running--;
  }
}

export interface SessionDeps {
  mqtt: MqttConfig;
  gw: string;
  statusTopic: string;
  gate: ConnectGate;
  scheduler: Scheduler;
  /** Whether the box is powered and its uplink can reach the broker right now. */
  wanted(): boolean;
  onUp(client: MqttClient): void;
  onDown(): void;
  onMessage(client: MqttClient, topic: string, payload: Buffer, packet: IPublishPacket): void;
  onError(err: Error): void;
}

/** What a village needs of its broker session: its own socket, or a share of one (shared-session.ts). */
export interface Session {
  readonly up: boolean;
  /** The client while the session is up. */
  readonly current: MqttClient | undefined;
  connect(boot: string): void;
  abort(): void;
  stop(ts: string, budgetMs?: number): Promise<void>;
}

/**
 * One village's MQTT session, with the gateway's own client options and Will. Unlike the
 * daemon's MqttConnection it can die the way a box dies: `abort()` drops the TCP socket with
 * no DISCONNECT (power cut, cut fiber), so the broker publishes the Will. When the broker
 * itself is unreachable it retries with capped, jittered backoff on real time.
 */
export class VillageSession implements Session {
  private readonly d: SessionDeps;
  private client: MqttClient | undefined;
  private boot = '';
  private retry: { cancel(): void } | undefined;
  private failures = 0;
  private queued = false;
  up = false;

  constructor(deps: SessionDeps) {
    this.d = deps;
  }

  get current(): MqttClient | undefined {
    return this.up ? this.client : undefined;
  }

  connect(boot: string): void {
    this.boot = boot;
    if (this.client || this.retry || this.queued) return;
    this.queued = true;
    this.d.gate.acquire(() => {
      this.queued = false;
      this.open();
    });
  }

  private open(): void {
    if (!this.d.wanted()) {
      this.d.gate.release();
      return;
    }
    let released = false;
    const release = () => {
      if (!released) this.d.gate.release();
      released = true;
    };
    const opts = gatewayClientOptions(
      this.d.mqtt,
      `kgw-${this.d.gw}`,
      this.d.statusTopic,
      willPayload(this.d.gw, this.boot),
    );
    const client = mqtt.connect(brokerOptions(this.d.mqtt.url, opts));
    this.client = client;
    client.on('connect', () => {
      release();
      if (this.client !== client) return;
      this.up = true;
      this.failures = 0;
      this.d.onUp(client);
    });
    client.on('message', (topic, payload, packet) => {
      if (this.client === client && this.up) this.d.onMessage(client, topic, payload, packet);
    });
    client.on('error', (err) => this.d.onError(err));
    client.once('close', () => {
      release();
      client.removeAllListeners('message');
      client.end(true);
      if (this.client !== client) return;
      this.client = undefined;
      this.markDown();
      if (this.d.wanted()) this.scheduleRetry();
    });
  }

  private scheduleRetry(): void {
    this.failures++;
    const cap = Math.min(10_000, 250 * 2 ** this.failures);
    this.retry = this.d.scheduler.after('fleet-sim-reconnect', Math.floor(Math.random() * cap) + 50, () => {
      this.retry = undefined;
      if (this.d.wanted()) this.connect(this.boot);
    });
  }

  /** Power cut or cut fiber: the socket goes away without DISCONNECT; the broker sends the Will. */
  abort(): void {
    this.retry?.cancel();
    this.retry = undefined;
    const client = this.client;
    this.client = undefined;
    this.markDown();
    if (!client) return;
    client.removeAllListeners('message');
    client.stream?.destroy();
    client.end(true);
  }

  /** Clean stop: retained {online:false, clean:true}, then DISCONNECT (no Will). */
  async stop(ts: string, budgetMs = 3000): Promise<void> {
    this.retry?.cancel();
    this.retry = undefined;
    const client = this.client;
    this.client = undefined;
    const wasUp = this.up;
    this.markDown();
    if (!client) return;
    if (wasUp) {
      const payload = cleanStopPayload(this.d.gw, this.boot, ts);
      await within(
        budgetMs,
        new Promise<void>((r) =>
          client.publish(this.d.statusTopic, payload, { qos: 1, retain: true }, () => r()),
        ),
      );
    }
    await within(1000, new Promise<void>((r) => client.end(false, {}, () => r())));
    client.end(true);
  }

  private markDown(): void {
    if (!this.up) return;
    this.up = false;
    this.d.onDown();
  }
}

/** A self-clearing bound on one stop step (as in report/connection.ts); the shared session uses it too. */
export function within(ms: number, p: Promise<void>): Promise<void> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<void>((r) => (t = setTimeout(r, ms)))]).finally(() => clearTimeout(t));
}
