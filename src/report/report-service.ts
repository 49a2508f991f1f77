import type { MqttClient } from 'mqtt';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { Scheduler, TaskHandle } from '../core/scheduler.js';
import type { Service } from '../core/service.js';
import type { TransactionHook } from '../devices/usage-ingest.js';
import type { GatewayBus } from '../events.js';
import type { OperationRegistry, ReplyAddress } from '../modules/operations.js';
import type { StatusHub } from '../status/status-hub.js';
import type { DeviceStatus, LinkStatus, OutboxStatus, StatusSection } from '../status/types.js';
import type { SectionState } from '../store/live-snapshot.js';
import type { Store } from '../store/store.js';
import { WRITE_TICK_MS, type WriteTick } from '../store/write-tick.js';
import { CommandResponder } from './command-responder.js';
import { CommandRegistry } from './commands.js';
import type { MqttConfig } from './config-schema.js';
import { MqttConnection } from './connection.js';
import { DropReporter } from './drop-reporter.js';
import {
  cleanStopPayload,
  deviceChangedEvent,
  linkChangedEvent,
  usagePayload,
  willPayload,
} from './event-payloads.js';
import { buildHealth } from './health.js';
import { Outbox } from './outbox.js';
import { type DrainProgress, OutboxPump } from './outbox-pump.js';
import { OutboxRepo } from './outbox-repo.js';
import { RetainedState } from './retained-state.js';
import { CLASSES, type MessageClass, Topics } from './topics.js';

export interface ReportDeps {
  gateway: { id: string; name: string };
  mqtt: MqttConfig;
  /** The allow-list whose MQTT entries answer `cmd/{name}`. */
  operations: OperationRegistry;
  log: Logger;
  clock: Clock;
  scheduler: Scheduler;
  store: Store;
  status: StatusHub;
  /** The one periodic commit of derived data: the held health and waiting acknowledgements ride on it. */
  writeTick: Pick<WriteTick, 'add'>;
  /** Where the status section is kept (the runtime directory's live snapshot). */
  state: SectionState;
  bus: GatewayBus;
  runId: string;
  version: string;
  random?: () => number;
}

export type OutboxSection = OutboxStatus &
  DrainProgress & {
    attempts: number;
    last_error: string | null;
    /** Envelopes kept after PUBACK for `resend`: rows, bytes, shed for space, pruned, republished. */
    sent: { rows: number; bytes: number; shed: number; pruned: number; resent: number };
  };

/**
 * Health messages held in memory while connected are stored on the write tick (every five
 * minutes, in the one commit of all periodic writers: src/store/write-tick.ts). This is the
 * backstop should a tick be late (Outbox deferHealthMs): a minute longer than the tick, so the
 * two never race and make two commits where one does.
 */
const HEALTH_WRITE_BEHIND_MS = WRITE_TICK_MS + 60_000;

/** Kept envelopes past mqtt.resend_days are deleted in one statement per hour. */
const PRUNE_EVERY_MS = 3600_000;

/**
 * Regency reporting: bus events → retained state (status, link, device/{id}) and the durable
 * outbox (health, outage, event; usage through `usageHook`, inside the ingest's transaction);
 * one MQTT connection; remote commands (the MQTT entries of the operation registry).
 */
export class ReportService implements Service, StatusSection<'outbox'> {
  readonly name = 'report';
  readonly section = 'outbox' as const;
  readonly topics: Topics;
  readonly commands: CommandRegistry;
  private readonly d: ReportDeps;
  readonly repo: OutboxRepo;
  private readonly state: SectionState;
  private leaveTick: (() => void) | undefined;
  readonly outbox: Outbox;
  private readonly pump: OutboxPump;
  private readonly conn: MqttConnection;
  private client: MqttClient | undefined;
  private readonly retained: RetainedState;
  private readonly unsubscribe: Array<() => void> = [];
  private healthTask: TaskHandle | undefined;
  private persistTask: TaskHandle | undefined;
  private pruneTask: TaskHandle | undefined;
  private dirty = true;
  private dropsAtHealth: Record<string, number> = {};
  private readonly drops: DropReporter;
  private readonly responder: CommandResponder;
  private readonly upListeners: Array<() => void> = [];

  constructor(deps: ReportDeps) {
    this.d = deps;
    this.topics = new Topics(deps.mqtt.topic_prefix, deps.gateway.id);
    const db = () => deps.store.db;
    this.repo = new OutboxRepo({ db });
    this.state = deps.state;
    this.commands = new CommandRegistry({ log: deps.log, operations: deps.operations });
    this.outbox = new Outbox({
      store: deps.store,
      repo: this.repo,
      clock: deps.clock,
      scheduler: deps.scheduler,
      log: deps.log,
      topics: this.topics,
      gw: deps.gateway.id,
      boot: deps.runId,
      maxBytes: deps.mqtt.outbox_max_mb * 1024 * 1024,
      keepMs: deps.mqtt.resend_days * 86_400_000,
      deferHealthMs: HEALTH_WRITE_BEHIND_MS,
      onChange: () => this.changed(),
    });
    this.pump = new OutboxPump({
      outbox: this.outbox,
      repo: this.repo,
      clock: deps.clock,
      scheduler: deps.scheduler,
      log: deps.log,
      window: deps.mqtt.inflight_window,
      drainPerS: deps.mqtt.drain_per_s,
    });
    this.conn = new MqttConnection({
      config: deps.mqtt,
      clientId: `kgw-${deps.gateway.id}`,
      statusTopic: this.topics.status,
      log: deps.log,
      scheduler: deps.scheduler,
      random: deps.random,
      willPayload: () => willPayload(deps.gateway.id, deps.runId),
      offlinePayload: () => cleanStopPayload(deps.gateway.id, deps.runId, this.now()),
      onUp: (c) => this.onUp(c),
      onDown: () => this.onDown(),
      onMessage: (t, p, pk) => {
        const client = this.client;
        if (client) void this.responder.handle(client, () => this.client, t, p, pk);
      },
    });
    this.retained = new RetainedState({
      ...deps,
      topics: this.topics,
      healthIntervalS: deps.mqtt.health_interval_s,
      ...(deps.mqtt.username ? { mqttUser: deps.mqtt.username } : {}),
      commandNames: () => this.commands.names(),
    });
    this.responder = new CommandResponder({ registry: this.commands, topics: this.topics });
    this.drops = new DropReporter({
      outbox: this.outbox,
      repo: this.repo,
      store: deps.store,
      scheduler: deps.scheduler,
      kick: () => this.pump.kick(),
    });
  }

  start(): void {
    this.outbox.start();
    this.dropsAtHealth = { ...this.outbox.drops() };
    const bus = this.d.bus;
    this.unsubscribe.push(
      bus.on('outage.ended', (e) => this.enqueue('outage', e)),
      bus.on('alert', (e) => this.enqueue('event', e)),
      bus.on('link.changed', (l) => this.onLink(l)),
      bus.on('device.changed', (dev) => this.onDevice(dev)),
    );
    this.healthTask = this.d.scheduler.every({
      name: 'report-health',
      coarse: true,
      intervalMs: this.d.mqtt.health_interval_s * 1000,
      run: () => this.enqueueHealth(),
    });
    this.persistTask = this.d.scheduler.every({
      name: 'report-status-persist',
      coarse: true,
      // The copy `kampung-gw status` reads when the daemon is down: 5 minutes old at most (and
      // written at stop and at connect). Every 5 s it cost a page write per health message.
      intervalMs: 5 * 60_000,
      initialDelayMs: 1000,
      run: () => this.persist(),
    });
    this.pruneTask = this.d.scheduler.every({
      name: 'outbox-sent-prune',
      coarse: true,
      intervalMs: PRUNE_EVERY_MS,
      initialDelayMs: 60_000,
      run: () => {
        this.pruneSent();
      },
    });
    this.leaveTick = this.d.writeTick.add(this.outbox.tickWriter());
    this.drops.start();
    this.conn.start();
  }

  async stop(): Promise<void> {
    for (const u of this.unsubscribe.splice(0)) u();
    this.healthTask?.cancel();
    this.persistTask?.cancel();
    this.pruneTask?.cancel();
    this.leaveTick?.();
    this.leaveTick = undefined;
    this.drops.stop();
    this.pump.detach();
    await this.conn.stop();
    this.outbox.stop();
    this.dirty = true;
    this.persist();
  }

  /** Sends the backlog now, without pacing (the flush-outbox command and page action). */
  flushNow(): { depth: number; connected: boolean } {
    this.pump.flushNow();
    return { depth: this.outbox.depth(), connected: this.conn.connected };
  }

  /** Deletes kept envelopes older than mqtt.resend_days; returns how many went. */
  pruneSent(): number {
    try {
      const n = this.outbox.pruneSent();
      if (n > 0) this.d.log.info({ pruned: n }, 'outbox: kept envelopes past resend_days pruned');
      return n;
    } catch (err) {
      this.d.log.warn({ err }, 'outbox: pruning kept envelopes failed');
      return 0;
    }
  }

  /** Writes the outbox's waiting acknowledgements now (before a resend looks rows up). */
  flushAcks(): void {
    this.outbox.flushAcks();
  }

  /** For `resend`: queues kept rows to be republished; false when the queue is full. */
  queueResend(ids: readonly number[]): number | false {
    return this.pump.queueResend(ids);
  }

  /** Stores one outbox message; exposed for producers that hold no bus (tests, future modules). */
  enqueue(cls: MessageClass, data: unknown): ReturnType<Outbox['enqueue']> {
    const before = this.outbox.dropTotal;
    const env = this.outbox.enqueue(cls, data);
    this.pump.kick();
    if (this.outbox.dropTotal !== before) this.drops.poke();
    return env;
  }

  /**
   * For the devices module's ingest: runs inside the producer's own transaction, so the
   * outbox row commits (or fails, e.g. disk full) together with the stored usage.
   */
  readonly usageHook: TransactionHook = (deviceId, stored) => {
    if (stored.length > 0) this.enqueueUsage(deviceId, stored);
  };

  enqueueUsage(deviceId: string, events: ReadonlyArray<Record<string, unknown>>): void {
    this.enqueue('usage', usagePayload(deviceId, events));
  }

  enqueueHealth(): void {
    const drops = this.outbox.drops();
    const since: Record<string, number> = {};
    for (const c of CLASSES) since[c] = drops[c] - (this.dropsAtHealth[c] ?? 0);
    const env = this.enqueue('health', buildHealth(this.d.status.snapshot(), since));
    if (env) this.dropsAtHealth = { ...drops };
  }

  /** The broker session is up (for /healthz and the upgrade's health check). */
  get connected(): boolean {
    return this.conn.connected;
  }

  /** Runs fn at every (re)connection, once subscribed and the birth is out. */
  onConnected(fn: () => void): void {
    this.upListeners.push(fn);
  }

  /**
   * A reply to a command received before (maybe by the process before a restart): published now
   * on its topic with its correlation data, QoS 1, not through the outbox; false while
   * disconnected.
   */
  publishReply(to: ReplyAddress, reply: Record<string, unknown>): boolean {
    const client = this.client;
    if (!client) return false;
    const opts = to.correlation
      ? { qos: 1 as const, properties: { correlationData: Buffer.from(to.correlation, 'base64') } }
      : { qos: 1 as const };
    client.publish(to.topic, JSON.stringify({ id: to.id, ...reply }), opts);
    return true;
  }

  /** Cheap view of the drain (no SQL): for benchmarks and the page's progress bar. */
  drainProgress(): DrainProgress & { connected: boolean } {
    return { ...this.pump.progress(), connected: this.conn.connected };
  }

  live(): OutboxSection {
    return {
      depth: this.outbox.depth(),
      bytes: this.outbox.bytes(),
      oldest_age_s: this.outbox.oldestAgeS(),
      dropped: this.outbox.drops(),
      connected: this.conn.connected,
      ...this.pump.progress(),
      attempts: this.conn.attempts,
      last_error: this.conn.error ?? null,
      sent: { ...this.outbox.sent(), resent: this.pump.resent },
    };
  }

  private onUp(client: MqttClient): void {
    this.client = client;
    // Order on the wire: subscribe, birth, link, devices; then the pump (live first, backlog).
    client.subscribe(this.topics.cmdFilter, { qos: 1 }, (err) => {
      if (err) this.d.log.warn({ err }, 'mqtt: command subscription failed');
    });
    this.retained.publishAll(client);
    for (const fn of this.upListeners) {
      try {
        fn();
      } catch (err) {
        this.d.log.warn({ err }, 'mqtt: a connection listener failed');
      }
    }
    this.pump.attach({
      publish: (t, p, done) => client.publish(t, p, { qos: 1 }, (err) => done(err ?? undefined)),
    });
    this.changed();
    this.persist();
  }

  private onDown(): void {
    this.client = undefined;
    this.pump.detach();
    this.changed();
  }

  private onLink(l: LinkStatus): void {
    this.retained.setLink(l, this.client);
    this.enqueue('event', linkChangedEvent(l));
  }

  private onDevice(dev: DeviceStatus): void {
    this.retained.setDevice(dev, this.client);
    this.enqueue('event', deviceChangedEvent(dev));
  }

  private changed(): void {
    this.dirty = true;
  }

  private persist(): void {
    if (!this.dirty) return;
    this.dirty = false;
    try {
      this.state.put('outbox', this.live(), this.d.clock.wallMs());
    } catch (err) {
      this.d.log.warn({ err }, 'outbox status not persisted');
    }
  }

  private now(): string {
    return new Date(this.d.clock.wallMs()).toISOString();
  }
}
