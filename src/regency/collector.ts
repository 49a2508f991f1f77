import { readFileSync } from 'node:fs';
import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { Service } from '../core/service.js';
import { brokerOptions } from '../report/broker-url.js';
import { classify, type Inbound } from './classify.js';
import type { RegencyConfig } from './config-schema.js';
import type { IngestQueue } from './ingest-queue.js';

/** MQTT 5 Receive Maximum: how many unacknowledged messages the broker may send at once. */
export const RECEIVE_MAXIMUM = 1000;

/**
 * mqtt.js acknowledges a QoS 1 message when the `customHandleAcks` callback is called, and
 * reads nothing more from the socket until then: acknowledging after each commit would
 * commit one message at a time. So the callback is answered at once with this marker, which
 * mqtt.js treats as "send no PUBACK now" (it reports it as an 'error' event, ignored below),
 * and the PUBACK is sent by `puback()` once the message's group committed. PUBACKs go out in
 * the order the messages arrived (MQTT 5 §4.6), and only on the connection they arrived on:
 * after a reconnect the broker redelivers whatever was not acknowledged.
 */
class DeferredAck extends Error {
  constructor() {
    super('PUBACK deferred until the message is committed');
    this.name = 'DeferredAck';
  }
}
const DEFER = new DeferredAck();

type PacketSender = { _sendPacket(packet: { cmd: 'puback'; messageId: number; reasonCode: number }): void };

export interface CollectorDeps {
  config: RegencyConfig;
  clock: Clock;
  log: Logger;
  queue: IngestQueue;
  /** A live (not retained) message from a village: its silence clock restarts. */
  onSeen(gw: string, monoMs: number): void;
  /**
   * A live birth (`status`, online, not a retained copy) was committed, naming the broker
   * username the box connected with (`mqtt_user`): the box may be confirming a rotation.
   */
  onBirth?(gw: string, mqttUser: string): void;
  /** Villages revoked when the collector starts (later: `revoked()` after each commit). */
  revoked?: ReadonlySet<string>;
  /**
   * Tests only (never set from config): a message for which this is true is acknowledged to
   * the broker and never committed — a message lost between broker and store on purpose.
   */
  dropBeforeCommit?: (item: Inbound) => boolean;
}

/**
 * The regency's MQTT subscriber: one persistent MQTT 5 session (clean: false, the
 * configured client id, a session expiry), `{prefix}/+/#` at QoS 1 (as `$share/{group}/…`
 * when a shared group is set), every message classified and handed to the ingest queue.
 */
export class Collector implements Service {
  readonly name = 'collector';
  private readonly d: CollectorDeps;
  private client: MqttClient | undefined;
  /** Bumped on every (re)connect and close: a PUBACK is only valid on its own connection. */
  private generation = 0;
  private connectedOnce = false;
  /** Monotonic time of the current connection's CONNACK; undefined while disconnected. */
  private upSinceMono: number | undefined;
  /** A revoked village's messages are quarantined at commit: they never count as heard. */
  private revokedCodes: ReadonlySet<string>;

  constructor(deps: CollectorDeps) {
    this.d = deps;
    this.revokedCodes = deps.revoked ?? new Set();
  }

  /** The revoked villages as the last commit read them from the store. */
  revoked(codes: ReadonlySet<string>): void {
    this.revokedCodes = codes;
  }

  get connected(): boolean {
    return this.client?.connected === true;
  }

  /** How long the current connection has been up (ms); null while disconnected. */
  connectedForMs(): number | null {
    if (this.upSinceMono === undefined || !this.connected) return null;
    return this.d.clock.monoMs() - this.upSinceMono;
  }

  start(): void {
    const c = this.d.config.mqtt;
    const log = this.d.log;
    const client = mqtt.connect(brokerOptions(c.url, this.options()));
    this.client = client;
    if (c.protocol_version === 4) this.deferAcksV4(client);
    client.on('connect', (connack) => {
      this.generation++;
      log.info({ sessionPresent: connack.sessionPresent, clientId: c.client_id }, 'mqtt connected');
      this.connectedOnce = true;
      this.upSinceMono = this.d.clock.monoMs();
      this.subscribe(client);
    });
    client.on('close', () => {
      this.generation++;
      this.upSinceMono = undefined;
      if (this.connectedOnce) log.warn('mqtt connection closed; reconnecting');
    });
    client.on('error', (err) => {
      if (err === DEFER) return;
      log.warn({ err: { message: err.message, code: (err as { code?: unknown }).code } }, 'mqtt error');
    });
    client.on('message', (topic, payload, packet) => {
      // QoS 0 messages (not sent by gateways, which publish at QoS 1) still get classified.
      if (packet.qos === 0) this.receive(topic, payload, packet, () => undefined);
    });
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (!client) return;
    // What is committing now still gets its PUBACK; the rest the broker redelivers next run.
    await Promise.race([this.d.queue.idle(), new Promise((r) => setTimeout(r, 2000).unref())]);
    // No DISCONNECT with a session expiry of 0: the broker keeps the session for the next run.
    await client.endAsync(false).catch(() => client.end(true));
  }

  private options(): IClientOptions {
    const c = this.d.config.mqtt;
    const o: IClientOptions = {
      protocolVersion: c.protocol_version,
      clientId: c.client_id,
      clean: false,
      ...(c.protocol_version === 5
        ? { properties: { sessionExpiryInterval: c.session_expiry_s, receiveMaximum: RECEIVE_MAXIMUM } }
        : {}),
      reconnectPeriod: Math.round(c.reconnect_s * 1000),
      connectTimeout: 10_000,
      resubscribe: false,
      customHandleAcks: (topic, payload, packet, done) => {
        const gen = this.generation;
        this.receive(topic, payload, packet, () => this.puback(gen, packet.messageId));
        done(DEFER as unknown as number);
      },
    };
    return { ...o, ...brokerCredentials(c) };
  }

  /**
   * mqtt.js calls customHandleAcks only under MQTT 5. Under 3.1.1 it sends the PUBACK of a
   * QoS 1 message when `handleMessage` calls back, which it awaits before the next packet:
   * so the PUBACK still waits for the commit (one message at a time; enough for the small
   * brokers this is for). A PUBACK from an earlier connection is never sent on a new one.
   */
  private deferAcksV4(client: MqttClient): void {
    client.handleMessage = (packet, callback) => {
      if (packet.cmd !== 'publish' || packet.qos === 0) {
        callback();
        return;
      }
      const gen = this.generation;
      this.receive(packet.topic, packet.payload as Buffer, packet, () => {
        if (gen === this.generation) callback();
      });
    };
  }

  private subscribe(client: MqttClient): void {
    const c = this.d.config.mqtt;
    const all = `${c.topic_prefix}/+/#`;
    const filters: Record<string, { qos: 1; rh: 0 }> = {};
    if (c.shared_group === '') filters[all] = { qos: 1, rh: 0 };
    else {
      filters[`$share/${c.shared_group}/${all}`] = { qos: 1, rh: 0 };
      // Retained state goes to every instance (brokers send no retained messages to a shared
      // subscription): each collector rebuilds the village states itself.
      for (const t of ['status', 'link', 'device/+']) filters[`${c.topic_prefix}/+/${t}`] = { qos: 1, rh: 0 };
    }
    client.subscribe(filters, (err, granted) => {
      if (err) this.d.log.error({ err }, 'mqtt subscribe failed');
      else if (granted?.some((g) => g.qos > 2))
        this.d.log.error(
          { granted: granted.map((g) => ({ topic: g.topic, qos: g.qos })) },
          'subscription refused',
        );
    });
  }

  private receive(topic: string, payload: Buffer, packet: IPublishPacket, ack: () => void): void {
    const retained = packet.retain === true;
    const item = classify(this.d.config.mqtt.topic_prefix, topic, payload, retained);
    if (this.d.dropBeforeCommit?.(item)) {
      ack();
      return;
    }
    const heardMs = this.d.clock.monoMs();
    // Heard once committed, as of its arrival: the commit has just read the revoked villages.
    const committed = () => {
      if (!retained && item.t !== 'quarantine' && !this.revokedCodes.has(item.gw)) {
        this.d.onSeen(item.gw, heardMs);
        const user = liveBirthUser(item);
        if (user !== undefined) this.d.onBirth?.(item.gw, user);
      }
      ack();
    };
    this.d.queue.push({ item, atMs: this.d.clock.wallMs() }, committed);
  }

  private puback(gen: number, messageId: number | undefined): void {
    const client = this.client;
    if (messageId === undefined || !client || gen !== this.generation || !client.connected) return;
    (client as unknown as PacketSender)._sendPacket({ cmd: 'puback', messageId, reasonCode: 0 });
  }
}

/** The `mqtt_user` of a live birth (online, not retained); undefined for anything else. */
function liveBirthUser(item: Inbound): string | undefined {
  if (item.t !== 'state' || item.kind !== 'status' || item.retained || item.payload?.online !== true) return;
  const user = item.payload.mqtt_user;
  return typeof user === 'string' && user !== '' ? user : undefined;
}

/** Credentials and TLS of the collector's broker identity (every regency MQTT client uses them). */
export function brokerCredentials(c: RegencyConfig['mqtt']): IClientOptions {
  const o: IClientOptions = {};
  if (c.username) o.username = c.username;
  if (c.password_file) o.password = readFileSync(c.password_file, 'utf8').replace(/\r?\n$/, '');
  if (c.ca_file) o.ca = readFileSync(c.ca_file);
  if (c.cert_file) o.cert = readFileSync(c.cert_file);
  if (c.key_file) o.key = readFileSync(c.key_file);
  if (c.url.startsWith('mqtts:')) o.rejectUnauthorized = true;
  return o;
}
