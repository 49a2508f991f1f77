import { randomBytes } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import type { Scheduler } from '../../core/scheduler.js';
import { brokerOptions } from '../../report/broker-url.js';
import type { MqttConfig } from '../../report/config-schema.js';
import { gatewayClientOptions } from '../../report/connection.js';
import { cleanStopPayload } from '../../report/event-payloads.js';
import { parseTopic } from '../../report/topics.js';
import { type ConnectGate, type Session, type SessionDeps, within } from './village-session.js';

/**
 * `--per-connection N`: up to N villages share one MQTT connection, for loads (a province, the
 * nation) whose villages a test box cannot hold one socket each. Everything a village
 * publishes is unchanged (own topics, envelopes, seq, retained birth, link and devices, backlog
 * after a cut), with one difference: a connection carries no Will of its own village, so a
 * cut or a power loss stops the village's messages without the broker sending its
 * `{online:false}`; the regency sees it go silent instead of offline. A cut village keeps
 * the shared socket; losing the socket takes all its villages down together.
 */
export class SharedConnections {
  private readonly size: number;
  private readonly base: PoolDeps;
  private pool: SharedPool | undefined;
  private pools = 0;

  constructor(size: number, base: PoolDeps) {
    this.size = size;
    this.base = base;
  }

  /** The next village's session, on the newest connection until it holds `size` villages. */
  session(deps: SessionDeps): Session {
    if (!this.pool || this.pool.full(this.size)) this.pool = new SharedPool(this.base, this.pools++);
    return this.pool.add(deps);
  }

  get connections(): number {
    return this.pools;
  }
}

interface PoolDeps {
  mqtt: MqttConfig;
  gate: ConnectGate;
  scheduler: Scheduler;
}

class SharedPool {
  private readonly d: PoolDeps;
  private readonly clientId: string;
  private readonly members = new Map<string, Member>();
  private client: MqttClient | undefined;
  private live = false;
  private pending = false;
  private retry: { cancel(): void } | undefined;
  private failures = 0;
  private stopped = 0;

  constructor(deps: PoolDeps, n: number) {
    this.d = deps;
    this.clientId = `kgw-sim-shared-${n}-${randomBytes(3).toString('hex')}`;
  }

  full(size: number): boolean {
    return this.members.size >= size;
  }

  add(deps: SessionDeps): Member {
    const m = new Member(deps, this);
    this.members.set(deps.gw, m);
    return m;
  }

  get current(): MqttClient | undefined {
    return this.live ? this.client : undefined;
  }

  /** A member wants to be online: attach it now if the socket is up, else open the socket. */
  want(m: Member): void {
    const c = this.current;
    if (c) setImmediate(() => m.attach(c));
    else if (!this.client && !this.pending && !this.retry) {
      this.pending = true;
      this.d.gate.acquire(() => {
        this.pending = false;
        this.open();
      });
    }
  }

  private wanting(): Member[] {
    return [...this.members.values()].filter((m) => m.wanting && m.deps.wanted());
  }

  private open(): void {
    if (this.wanting().length === 0) {
      this.d.gate.release();
      return;
    }
    let released = false;
    const release = () => {
      if (!released) this.d.gate.release();
      released = true;
    };
    const { will: _none, ...opts } = gatewayClientOptions(this.d.mqtt, this.clientId, '', '');
    const client = mqtt.connect(brokerOptions(this.d.mqtt.url, { ...opts, writeCache: true }));
    this.client = client;
    client.on('connect', () => {
      release();
      if (this.client !== client) return;
      this.live = true;
      this.failures = 0;
      for (const m of this.wanting()) m.attach(client);
    });
    client.on('message', (topic, payload, packet) => {
      const gw = parseTopic(this.d.mqtt.topic_prefix, topic)?.gw;
      const m = gw === undefined ? undefined : this.members.get(gw);
      if (this.client === client && m?.up) m.deps.onMessage(client, topic, payload, packet);
    });
    client.on('error', (err) => {
      for (const m of this.members.values()) m.deps.onError(err);
    });
    client.once('close', () => {
      release();
      client.removeAllListeners('message');
      client.end(true);
      if (this.client !== client) return;
      this.client = undefined;
      this.live = false;
      for (const m of this.members.values()) m.detach();
      if (this.wanting().length > 0) this.scheduleRetry();
    });
  }

  private scheduleRetry(): void {
    this.failures++;
    const cap = Math.min(10_000, 250 * 2 ** this.failures);
    this.retry = this.d.scheduler.after('fleet-sim-reconnect', Math.floor(Math.random() * cap) + 50, () => {
      this.retry = undefined;
      const first = this.wanting()[0];
      if (first) this.want(first);
    });
  }

  /** A member stopped for good; the last one closes the socket. */
  async left(): Promise<void> {
    if (++this.stopped < this.members.size) return;
    this.retry?.cancel();
    this.retry = undefined;
    const client = this.client;
    this.client = undefined;
    this.live = false;
    if (!client) return;
    await within(1000, new Promise<void>((r) => client.end(false, {}, () => r())));
    client.end(true);
  }
}

class Member implements Session {
  readonly deps: SessionDeps;
  private readonly pool: SharedPool;
  private boot = '';
  wanting = false;
  up = false;
  private gone = false;

  constructor(deps: SessionDeps, pool: SharedPool) {
    this.deps = deps;
    this.pool = pool;
  }

  get current(): MqttClient | undefined {
    return this.up ? this.pool.current : undefined;
  }

  connect(boot: string): void {
    this.boot = boot;
    this.wanting = true;
    this.pool.want(this);
  }

  attach(client: MqttClient): void {
    if (this.up || !this.wanting || !this.deps.wanted() || this.pool.current !== client) return;
    this.up = true;
    this.deps.onUp(client);
  }

  detach(): void {
    if (!this.up) return;
    this.up = false;
    this.deps.onDown();
  }

  /** Power cut or cut fiber: this village falls quiet; the shared socket (and no Will) stays. */
  abort(): void {
    this.wanting = false;
    this.detach();
  }

  async stop(ts: string, budgetMs = 3000): Promise<void> {
    const client = this.current;
    this.wanting = false;
    if (client) {
      const payload = cleanStopPayload(this.deps.gw, this.boot, ts);
      await within(
        budgetMs,
        new Promise<void>((r) =>
          client.publish(this.deps.statusTopic, payload, { qos: 1, retain: true }, () => r()),
        ),
      );
    }
    this.detach();
    // Counted once: a village stopped twice must not close the socket its neighbours still use.
    if (this.gone) return;
    this.gone = true;
    await this.pool.left();
  }
}
