import { randomUUID } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { GwError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { Scheduler } from '../../core/scheduler.js';
import type { Service } from '../../core/service.js';
import { brokerOptions } from '../../report/broker-url.js';
import type { RemoteCommand } from '../../report/command-names.js';
import { Topics } from '../../report/topics.js';
import { brokerCredentials } from '../collector.js';
import type { RegencyConfig } from '../config-schema.js';

export interface VillageReply {
  ok: boolean;
  result?: unknown;
  error?: { code: string; message: string };
}

export type CommandOutcome = { answered: true; reply: VillageReply } | { answered: false };

/**
 * Where villages answer this collector: outside `{prefix}/+/`, which the gateway refuses as a
 * response topic (command-responder.ts) and which would also land in the collector's own
 * subscription. One per client id, so several collectors each get their own answers.
 */
export function replyTopic(c: RegencyConfig['mqtt']): string {
  return `${c.topic_prefix}-regency/${c.client_id}/reply`;
}

/** What this client subscribes to for replies: with MQTT 3.1.1 there is no response topic. */
function replyFilter(c: RegencyConfig['mqtt']): string {
  return c.protocol_version === 5 ? replyTopic(c) : `${c.topic_prefix}/+/cmd/+/reply`;
}

/**
 * Sends allow-listed commands to villages and waits for the correlated reply: `{id, args}`
 * at QoS 1 on `{prefix}/{code}/cmd/{name}` with an MQTT 5 response topic (replyTopic) and the
 * id as correlation data. Its own clean session next to the collector's persistent one: a
 * reply nobody waits for any more need not be queued.
 */
export class CommandClient implements Service {
  readonly name = 'command-client';
  private readonly config: RegencyConfig['mqtt'];
  private readonly log: Logger;
  private readonly scheduler: Scheduler;
  private client: MqttClient | undefined;
  private readonly pending = new Map<string, (o: CommandOutcome) => void>();
  /** The village each pending id was sent to (MQTT 3.1.1 replies are checked against it). */
  private readonly sentTo = new Map<string, string>();

  constructor(deps: { config: RegencyConfig['mqtt']; log: Logger; scheduler: Scheduler }) {
    this.config = deps.config;
    this.log = deps.log;
    this.scheduler = deps.scheduler;
  }

  start(): void {
    const c = this.config;
    const client = mqtt.connect(
      brokerOptions(c.url, {
        protocolVersion: c.protocol_version,
        clientId: `${c.client_id}-cmd`,
        clean: true,
        reconnectPeriod: Math.round(c.reconnect_s * 1000),
        connectTimeout: 10_000,
        ...brokerCredentials(c),
      }),
    );
    this.client = client;
    client.on('connect', () => {
      client.subscribe(replyFilter(c), { qos: 1 }, (err) => {
        if (err) this.log.error({ err }, 'command reply subscription failed');
      });
    });
    client.on('error', (err) => this.log.warn({ err: { message: err.message } }, 'command mqtt error'));
    client.on('message', (topic, payload, packet) =>
      this.answer(topic, payload, packet.properties?.correlationData),
    );
  }

  async stop(): Promise<void> {
    for (const resolve of this.pending.values()) resolve({ answered: false });
    this.pending.clear();
    const client = this.client;
    this.client = undefined;
    await client?.endAsync(true).catch(() => undefined);
  }

  get connected(): boolean {
    return this.client?.connected === true;
  }

  /** A fresh request id (also the audit row's key). */
  newId(): string {
    return randomUUID();
  }

  /** Publishes the request and waits up to timeoutMs for its reply; GW_ERR_UNAVAILABLE when the broker is not reachable. */
  async send(
    id: string,
    gw: string,
    name: RemoteCommand,
    args: Record<string, unknown>,
    timeoutMs: number,
  ): Promise<CommandOutcome> {
    const client = this.client;
    if (!client?.connected) throw new GwError('GW_ERR_UNAVAILABLE', 'not connected to the broker');
    const outcome = new Promise<CommandOutcome>((resolve) => {
      const timer = this.scheduler.after('command-timeout', timeoutMs, () => {
        this.pending.delete(id);
        this.sentTo.delete(id);
        resolve({ answered: false });
      });
      this.sentTo.set(id, gw);
      this.pending.set(id, (o) => {
        timer.cancel();
        this.pending.delete(id);
        this.sentTo.delete(id);
        resolve(o);
      });
    });
    const topic = `${new Topics(this.config.topic_prefix, gw).root}/cmd/${name}`;
    try {
      await client.publishAsync(
        topic,
        JSON.stringify({ id, args }),
        this.config.protocol_version === 5
          ? {
              qos: 1,
              properties: { responseTopic: replyTopic(this.config), correlationData: Buffer.from(id) },
            }
          : { qos: 1 },
      );
    } catch (err) {
      this.pending.get(id)?.({ answered: false });
      throw new GwError('GW_ERR_UNAVAILABLE', 'the broker did not accept the command', { cause: err });
    }
    return outcome;
  }

  private answer(topic: string, payload: Buffer, correlation: Buffer | undefined): void {
    let body: unknown;
    try {
      body = JSON.parse(payload.toString('utf8'));
    } catch {
      return;
    }
    if (body === null || typeof body !== 'object') return;
    const b = body as { id?: unknown; ok?: unknown; result?: unknown; error?: unknown };
    const id = correlation ? correlation.toString('utf8') : typeof b.id === 'string' ? b.id : undefined;
    const resolve = id === undefined ? undefined : this.pending.get(id);
    if (!resolve || id === undefined) return;
    // MQTT 3.1.1: the reply comes on the village's own topic; a reply to B's command from any
    // other village's topic is not B's answer, whatever id it quotes.
    const gw = this.sentTo.get(id);
    if (!correlation && !topic.startsWith(`${new Topics(this.config.topic_prefix, gw ?? '').root}/cmd/`))
      return;
    const reply: VillageReply = { ok: b.ok === true };
    if (b.ok === true) reply.result = b.result ?? null;
    else reply.error = normaliseError(b.error);
    resolve({ answered: true, reply });
  }
}

function normaliseError(e: unknown): { code: string; message: string } {
  const x = (e ?? {}) as { code?: unknown; message?: unknown };
  return {
    code: typeof x.code === 'string' ? x.code.slice(0, 64) : 'failed',
    message: typeof x.message === 'string' ? x.message.slice(0, 500) : 'command failed',
  };
}
