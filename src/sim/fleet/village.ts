import type { IPublishPacket, MqttClient } from 'mqtt';
import type { Config } from '../../config/schema.js';
import type { Logger } from '../../core/logger.js';
import { deviceChangedEvent, linkChangedEvent, usagePayload } from '../../report/event-payloads.js';
import { buildHealth } from '../../report/health.js';
import { OutboxRepo } from '../../report/outbox-repo.js';
import { CLASSES, type MessageClass, Topics } from '../../report/topics.js';
import type { StatusHub } from '../../status/status-hub.js';
import type { DeviceStatus } from '../../status/types.js';
import type { Layer } from '../../uplink/config-schema.js';
import {
  type BoxTraits,
  boxTraits,
  CacheCounters,
  hallDevices,
  initialState,
  type SimDevice,
} from './box-model.js';
import type { FleetContext } from './fleet-context.js';
import { displayName, kioskBatch } from './kiosk-batch.js';
import { type EndedOutage, type LinkFault, LinkModel } from './link-model.js';
import { MemoryStore } from './memory-store.js';
import { type Random, seeded } from './rng.js';
import { SentLog } from './sent-log.js';
import { type Run, startRun } from './village-run.js';
import type { Session } from './village-session.js';
import { villageStatusHub } from './village-status.js';
import type { VillageInfo } from './villages.js';

/** down_after / up_after rounds of 1 s probes: how long a change takes to become the verdict. */
export const HYSTERESIS_MS = 4000;

/**
 * One simulated village gateway, built from the daemon's own report parts: the durable outbox
 * and its pump (seq, PUBACK-before-delete, live first then the backlog marked historical),
 * the retained birth/link/device state, the Will, the command registry and responder. The
 * world around it (power, uplink faults, kiosks) is driven by the fleet's agenda in simulated
 * time; the database and the sent log survive power cuts as an SD card would.
 */
export class Village {
  readonly info: VillageInfo;
  readonly topics: Topics;
  readonly r: Random;
  readonly link: LinkModel;
  readonly devices: SimDevice[];
  private readonly fleet: FleetContext;
  private readonly store = new MemoryStore();
  private readonly repo: OutboxRepo;
  private readonly sent: SentLog;
  private readonly traits: BoxTraits;
  private readonly cache = new CacheCounters();
  private readonly state = new Map<string, DeviceStatus>();
  private readonly hub: StatusHub;
  private readonly session: Session;
  private readonly log: Logger;
  private readonly config: Config;
  private run: Run | undefined;
  private gen = 0;
  private readonly powerCuts = new Set<number>();
  private nextCut = 1;
  private savedWall = 0;
  private netDownAt = 0;
  private interrupted: EndedOutage | null = null;
  private lastJumpS: number | null = null;
  private everUp = false;

  constructor(info: VillageInfo, fleet: FleetContext) {
    this.info = info;
    this.fleet = fleet;
    this.r = seeded(`${fleet.seed}:${info.code}`);
    this.topics = new Topics(fleet.mqtt.topic_prefix, info.code);
    this.repo = new OutboxRepo({ db: () => this.store.db });
    this.sent = new SentLog(fleet.options.keep, fleet.published);
    this.traits = boxTraits(this.r);
    this.link = new LinkModel(this.traits.rttScale);
    this.devices = hallDevices(this.r);
    this.log = fleet.log.child({ gw: info.code });
    this.config = { ...fleet.config, gateway: { id: info.code, name: displayName(info.name) } };
    this.hub = this.statusHub();
    this.session = fleet.session({
      mqtt: fleet.mqtt,
      gw: info.code,
      statusTopic: this.topics.status,
      gate: fleet.gate,
      scheduler: fleet.scheduler,
      wanted: () => this.run !== undefined && this.link.netUp(),
      onUp: (c) => this.onUp(c),
      onDown: () => this.onDown(),
      onMessage: (c, t, p, pk) => this.onCommand(c, t, p, pk),
      onError: (err) => this.log.debug({ err }, 'mqtt error'),
    });
  }

  get powered(): boolean {
    return this.run !== undefined;
  }

  get connected(): boolean {
    return this.session.up;
  }

  /** Connected, nothing queued and nothing awaiting PUBACK. */
  drained(): boolean {
    const run = this.run;
    return !!run && this.session.up && run.outbox.depth() === 0 && run.pump.progress().inflight === 0;
  }

  start(at: number): void {
    this.store.open();
    for (const d of this.devices) this.state.set(d.id, initialState(d, this.wall(at)));
    this.boot(at, 0, true);
  }

  async stop(): Promise<void> {
    await this.session.stop(this.wall(this.fleet.time.now()));
    if (this.run) this.teardown(this.run);
    this.run = undefined;
    this.store.close();
  }

  wall(t: number): string {
    return new Date(t - (this.run?.clock.lagMs ?? 0)).toISOString();
  }

  enqueue(cls: MessageClass, data: unknown): void {
    const run = this.run;
    if (!run) return;
    run.outbox.enqueue(cls, data);
    run.pump.kick();
  }

  // --- power -------------------------------------------------------------------------------

  /** A PLN cut from `at` for `ms`; overlapping cuts (area and local) keep the box off until the last ends. */
  cutPower(at: number, ms: number): void {
    const token = this.nextCut++;
    this.powerCuts.add(token);
    if (this.powerCuts.size === 1) this.powerOff(at);
    this.fleet.at(at + ms, () => this.restore(token, at + ms));
  }

  private restore(token: number, at: number): void {
    if (this.powerCuts.delete(token) && this.powerCuts.size === 0 && !this.run) this.powerOn(at);
  }

  private powerOff(at: number): void {
    const run = this.run;
    if (!run) return;
    this.fleet.truth.power(this.info.code, false, at);
    this.interrupted = this.link.interrupt(at, (t) => this.wall(t));
    this.savedWall = run.clock.wallMs();
    this.session.abort();
    this.teardown(run);
    this.run = undefined;
    this.gen++;
  }

  /** No real-time clock: the box wakes at the time it saved (fake-hwclock) until NTP answers. */
  private powerOn(at: number): void {
    this.boot(at, Math.max(0, at - this.savedWall), false);
  }

  private boot(at: number, lagMs: number, synced: boolean): void {
    const g = ++this.gen;
    const f = this.fleet;
    f.truth.power(this.info.code, true, at);
    this.run = startRun({
      fleet: f,
      store: this.store,
      repo: this.repo,
      log: this.log,
      topics: this.topics,
      code: this.info.code,
      config: this.config,
      link: this.link,
      sent: this.sent,
      hub: this.hub,
      session: this.session,
      at,
      lagMs,
      synced,
    });
    // The uplink module reports an outage a power cut interrupted as soon as it starts.
    if (this.interrupted) this.enqueue('outage', this.interrupted);
    this.interrupted = null;
    this.link.reboot(at);
    f.at(at + HYSTERESIS_MS, () => this.evaluateLink(g));
    const interval = f.options.healthIntervalS * 1000;
    this.every(g, at + this.r() * interval, interval, () => this.enqueueHealth());
    this.every(g, at + this.r() * 30_000, 30_000, () => this.kioskPosts());
    if (!synced) this.scheduleSync(g, at);
    if (this.link.netUp()) this.scheduleConnect(g, at + this.r() * f.options.connectDelayMaxS * 1000);
  }

  private teardown(run: Run): void {
    run.pump.detach();
    run.builtins.stop();
    run.outbox.stop();
  }

  /** A chain of runs every `interval` while this boot lasts and the fleet is producing. */
  private every(g: number, first: number, interval: number, fn: () => void): void {
    const step = (t: number) => {
      if (g !== this.gen || !this.fleet.producing()) return;
      fn();
      this.fleet.at(t + interval, () => step(t + interval));
    };
    this.fleet.at(first, () => step(first));
  }

  private scheduleConnect(g: number, at: number): void {
    this.fleet.at(at, () => {
      const run = this.run;
      if (g === this.gen && run && this.link.netUp()) this.session.connect(run.boot);
    });
  }

  private scheduleSync(g: number, from: number): void {
    const at = from + 20_000 + this.r() * 70_000;
    this.fleet.at(at, () => {
      const run = this.run;
      if (g !== this.gen || !run) return;
      if (!this.link.netUp()) return this.scheduleSync(g, at);
      const jump = Math.round(run.clock.lagMs / 1000);
      run.clock.lagMs = 0;
      run.clock.isSynced = true;
      this.lastJumpS = jump;
      this.enqueue('event', {
        code: 'clock_jump',
        severity: 'warning',
        message: `the wall clock jumped by ${jump} s`,
        details: { jump_s: jump, synced: true },
      });
    });
  }

  // --- uplink ------------------------------------------------------------------------------

  /** A fault on the uplink from `at` for `ms` (a cut fiber, a hung router, a lossy line). */
  addLinkFault(f: LinkFault, at: number, ms: number): void {
    const wasUp = this.link.netUp();
    const layer = this.link.downLayer();
    const id = this.link.add(f, at);
    this.netChanged(at, wasUp, layer);
    this.fleet.at(at + ms, () => {
      const before = this.link.netUp();
      const beforeLayer = this.link.downLayer();
      this.link.remove(id, at + ms);
      this.netChanged(at + ms, before, beforeLayer);
    });
  }

  private netChanged(at: number, wasUp: boolean, wasLayer: Layer | null): void {
    this.fleet.truth.link(this.info.code, wasLayer, this.link.downLayer(), at);
    const up = this.link.netUp();
    const g = this.gen;
    if (this.run) this.fleet.at(at + HYSTERESIS_MS, () => this.evaluateLink(g));
    if (wasUp && !up) {
      this.netDownAt = at;
      this.session.abort();
    } else if (!wasUp && up && this.run) {
      // The daemon's backoff grew while the broker was unreachable: up to min(300 s, ~half the cut).
      const cap = Math.min(300_000, Math.max(1000, (at - this.netDownAt) / 2));
      this.scheduleConnect(g, at + this.r() * cap);
    }
  }

  private evaluateLink(g: number): void {
    const run = this.run;
    if (g !== this.gen || !run) return;
    const { changed, ended } = this.link.evaluate(this.fleet.time.now(), (t) => this.wall(t));
    if (changed) {
      run.retained.setLink(changed, this.session.current);
      this.enqueue('event', linkChangedEvent(changed));
    }
    if (ended) this.enqueue('outage', ended);
  }

  // --- devices and kiosks ------------------------------------------------------------------

  setDevice(id: string, online: boolean, at: number): void {
    const cur = this.state.get(id);
    const d = this.devices.find((x) => x.id === id);
    if (!cur || !d || (cur.state === 'online') === online) return;
    const next: DeviceStatus = {
      ...cur,
      state: online ? 'online' : 'offline',
      since: this.wall(at),
      reason: online ? null : d.failure,
    };
    this.state.set(id, next);
    if (!this.run) return;
    this.run.retained.setDevice(next, this.session.current);
    this.enqueue('event', deviceChangedEvent(next));
  }

  private kioskPosts(): void {
    const now = this.fleet.time.now();
    for (const d of this.devices) {
      if (d.kind !== 'kiosk' || this.state.get(d.id)?.state !== 'online') continue;
      const synced = this.run?.clock.isSynced ?? false;
      const events = kioskBatch(this.r, this.fleet.options.usagePerHour, now, (t) => this.wall(t), synced);
      if (events.length === 0) continue;
      this.cache.served(events.length, !this.link.netUp());
      this.enqueue('usage', usagePayload(d.id, events));
    }
  }

  /** After --duration: power back, links repaired, devices up, so every village drains. */
  heal(at: number): void {
    const wasUp = this.link.netUp();
    const layer = this.link.downLayer();
    this.link.clear(at);
    this.netChanged(at, wasUp, layer);
    for (const d of this.devices) this.setDevice(d.id, true, at);
    this.powerCuts.clear();
    if (!this.run) this.powerOn(at);
  }

  // --- health and status -------------------------------------------------------------------

  private enqueueHealth(): void {
    const run = this.run;
    if (!run) return;
    const drops = run.outbox.drops();
    const since: Record<string, number> = {};
    for (const c of CLASSES) since[c] = drops[c] - (run.dropsAtHealth[c] ?? 0);
    run.outbox.enqueue('health', buildHealth(this.hub.snapshot(), since));
    run.pump.kick();
    run.dropsAtHealth = { ...drops };
  }

  /** The status object the real health builder and birth read, from this box's simulated state. */
  private statusHub(): StatusHub {
    const now = () => this.fleet.time.now();
    return villageStatusHub({
      code: this.info.code,
      name: () => this.config.gateway.name,
      version: () => this.fleet.version,
      now,
      sinceOrigin: () => now() - this.fleet.time.originWall,
      link: () => this.link.status,
      devices: () => this.deviceList(now()),
      run: () => this.run,
      connected: () => this.session.up,
      cache: this.cache,
      traits: this.traits,
      lastJumpS: () => this.lastJumpS,
    });
  }

  private deviceList(now: number): DeviceStatus[] {
    const beat = this.wall(Math.floor(now / 30_000) * 30_000);
    return [...this.state.values()].map((s) =>
      s.kind === 'kiosk' ? { ...s, last_heartbeat: s.state === 'online' ? beat : s.since } : s,
    );
  }

  // --- MQTT --------------------------------------------------------------------------------

  private onUp(client: MqttClient): void {
    const run = this.run;
    if (!run) return;
    client.subscribe(this.topics.cmdFilter, { qos: 1 }, (err) => {
      if (err) this.log.warn({ err }, 'command subscription failed');
    });
    run.retained.publishAll(client);
    const root = this.topics.root.length + 1;
    run.pump.attach({
      publish: (t, p, done) =>
        client.publish(t, p, { qos: 1 }, (err) => {
          if (!err) this.sent.acked(t.slice(root) as MessageClass, p);
          done(err ?? undefined);
        }),
    });
    this.fleet.connected(true, !this.everUp);
    this.everUp = true;
  }

  private onDown(): void {
    this.run?.pump.detach();
    this.fleet.connected(false);
  }

  private onCommand(client: MqttClient, topic: string, payload: Buffer, packet: IPublishPacket): void {
    const run = this.run;
    if (run) void run.responder.handle(client, () => this.session.current, topic, payload, packet);
  }
}
