import { readFileSync } from 'node:fs';
import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import { redactUrl } from '../config/redact.js';
import type { Logger } from '../core/logger.js';
import type { Scheduler } from '../core/scheduler.js';
import { Backoff } from './backoff.js';
import { brokerOptions } from './broker-url.js';
import type { MqttConfig } from './config-schema.js';

export interface ConnectionDeps {
  config: MqttConfig;
  clientId: string;
  statusTopic: string;
  log: Logger;
  scheduler: Scheduler;
  random?: () => number;
  /** Retained payloads: the Will (kept by the broker) and the clean-stop message. */
  willPayload(): string;
  offlinePayload(): string;
  /** CONNACK received: the client is ready for publishing. */
  onUp(client: MqttClient): void;
  onDown(): void;
  onMessage(topic: string, payload: Buffer, packet: IPublishPacket): void;
}

const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_SIGNATURE_FAILURE',
]);

/**
 * One MQTT session at a time, with our own reconnect (mqtt.js's reconnectPeriod is 0): a
 * random first delay, then exponential backoff with full jitter. A fresh mqtt.js client per
 * attempt means its in-memory store never carries messages across connections; the outbox
 * owns everything unacknowledged. An unreachable broker is a state, never a fatal error.
 */
export class MqttConnection {
  private readonly d: ConnectionDeps;
  private readonly backoff: Backoff;
  private client: MqttClient | undefined;
  private timer: { cancel(): void } | undefined;
  private up = false;
  private stopping = false;
  private attemptsTotal = 0;
  private lastError: string | undefined;

  constructor(deps: ConnectionDeps) {
    this.d = deps;
    this.backoff = new Backoff({
      baseMs: deps.config.reconnect_min_s * 1000,
      capMs: deps.config.reconnect_max_s * 1000,
      random: deps.random,
    });
  }

  get connected(): boolean {
    return this.up;
  }

  get attempts(): number {
    return this.attemptsTotal;
  }

  get error(): string | undefined {
    return this.lastError;
  }

  start(): void {
    this.stopping = false;
    const delay = Math.floor((this.d.random ?? Math.random)() * this.d.config.connect_delay_max_s * 1000);
    this.d.log.info({ delayMs: delay }, 'mqtt: first connect scheduled');
    this.arm(delay);
  }

  /** Clean stop: retained {online:false} first (time-boxed), then DISCONNECT (no Will). */
  async stop(budgetMs = 2000): Promise<void> {
    this.stopping = true;
    this.timer?.cancel();
    this.timer = undefined;
    const client = this.client;
    this.client = undefined;
    if (!client) return;
    if (this.up) {
      await within(
        budgetMs,
        new Promise<void>((resolve) =>
          client.publish(this.d.statusTopic, this.d.offlinePayload(), { qos: 1, retain: true }, () =>
            resolve(),
          ),
        ),
      );
    }
    this.markDown();
    await within(500, new Promise<void>((resolve) => client.end(false, {}, () => resolve())));
    client.end(true);
  }

  private arm(delayMs: number): void {
    if (this.stopping) return;
    this.timer?.cancel();
    this.timer = this.d.scheduler.after('mqtt-connect', delayMs, () => {
      this.timer = undefined;
      this.connect();
    });
  }

  private connect(): void {
    if (this.stopping) return;
    this.attemptsTotal++;
    let options: IClientOptions;
    try {
      options = this.options();
    } catch (err) {
      this.lastError = `secret or TLS file unreadable: ${(err as Error).message}`;
      this.d.log.error({ err }, 'mqtt: cannot read credentials or TLS files');
      this.arm(this.backoff.next());
      return;
    }
    this.d.log.info({ attempt: this.attemptsTotal, url: redactUrl(this.d.config.url) }, 'mqtt: connecting');
    let client: MqttClient;
    try {
      client = mqtt.connect(brokerOptions(this.d.config.url, options));
    } catch (err) {
      // A readable but unusable cert/key (not PEM, key not matching) throws here, synchronously,
      // from the TLS context: retry on the backoff like any failed attempt, so a fixed file is
      // picked up without a restart, instead of never trying again.
      this.lastError = `TLS files unusable: ${(err as Error).message}`;
      this.d.log.error({ err }, 'mqtt: cannot use the TLS files (check mqtt.cert_file, key_file, ca_file)');
      this.arm(this.backoff.next());
      return;
    }
    this.client = client;
    let closed = false;
    client.on('connect', () => {
      if (this.client !== client) return;
      this.up = true;
      this.lastError = undefined;
      this.backoff.reset();
      this.d.log.info({ attempt: this.attemptsTotal }, 'mqtt: connected');
      this.d.onUp(client);
    });
    client.on('message', (topic, payload, packet) => {
      if (this.client === client) this.d.onMessage(topic, payload, packet);
    });
    client.on('error', (err) => {
      const code = (err as NodeJS.ErrnoException).code;
      this.lastError = `${code ?? 'error'}: ${err.message}`;
      if (code && TLS_CODES.has(code))
        this.d.log.error(
          { code, reason: err.message },
          'mqtt: broker TLS certificate rejected (check mqtt.ca_file)',
        );
      else this.d.log.warn({ code, reason: err.message }, 'mqtt: connection error');
    });
    client.on('close', () => {
      if (closed) return;
      closed = true;
      client.removeAllListeners('message');
      client.end(true);
      if (this.client !== client) return;
      this.client = undefined;
      this.markDown();
      const delay = this.backoff.next();
      this.d.log.info({ delayMs: delay, error: this.lastError }, 'mqtt: disconnected; reconnect scheduled');
      this.arm(delay);
    });
  }

  private markDown(): void {
    if (!this.up) return;
    this.up = false;
    this.d.onDown();
  }

  private options(): IClientOptions {
    return gatewayClientOptions(this.d.config, this.d.clientId, this.d.statusTopic, this.d.willPayload());
  }
}

/**
 * The options of every gateway session (also the fleet simulator's): clean session, no
 * mqtt.js reconnect, the retained `{online:false}` Will on the status topic.
 */
export function gatewayClientOptions(
  c: MqttConfig,
  clientId: string,
  statusTopic: string,
  willPayload: string,
): IClientOptions {
  const o: IClientOptions = {
    clientId,
    protocolVersion: c.protocol_version,
    clean: true,
    reconnectPeriod: 0,
    connectTimeout: 10_000,
    keepalive: 60,
    queueQoSZero: false,
    resubscribe: false,
    // mqtt-packet otherwise builds a cache of 65,536 two-byte Buffers (one per packet id, about
    // 6 MiB of heap) on the first packet: a speed-up for a broker's traffic, dead weight for a
    // box that publishes a few messages a minute (SPEC: idle RSS within 8 MiB of the bare stack).
    writeCache: false,
    will: { topic: statusTopic, payload: Buffer.from(willPayload), qos: 1, retain: true },
  };
  // MQTT 5: the broker must not forward us anything bigger (only commands are subscribed;
  // requests over 8 KiB get an error reply, over 64 KiB they never reach the box).
  if (c.protocol_version === 5) o.properties = { maximumPacketSize: 64 * 1024 };
  if (c.username) o.username = c.username;
  if (c.password_file) o.password = readFileSync(c.password_file, 'utf8').replace(/\r?\n$/, '');
  if (c.ca_file) o.ca = readFileSync(c.ca_file);
  if (c.cert_file) o.cert = readFileSync(c.cert_file);
  if (c.key_file) o.key = readFileSync(c.key_file);
  if (c.url.startsWith('mqtts:')) o.rejectUnauthorized = true;
  return o;
}

function within(ms: number, p: Promise<void>): Promise<void> {
  let t: NodeJS.Timeout | undefined;
  // A local, self-clearing bound on a stop step (the scheduler is already stopping).
  return Promise.race([p, new Promise<void>((r) => (t = setTimeout(r, ms)))]).finally(() => clearTimeout(t));
}
