import type { Config } from '../../config/schema.js';
import { SystemClock } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import { Scheduler } from '../../core/scheduler.js';
import type { MqttConfig } from '../../report/config-schema.js';
import { Agenda } from './agenda.js';
import type { FleetContext, FleetOptions } from './fleet-context.js';
import { GroundTruth, type TruthSpan } from './ground-truth.js';
import { seeded } from './rng.js';
import { linkFaultOf, type ScriptedFault, selects } from './scenario.js';
import { emptyPublished, type Published } from './sent-log.js';
import { SharedConnections } from './shared-session.js';
import { FleetTime } from './sim-time.js';
import { Village } from './village.js';
import { ConnectGate, VillageSession } from './village-session.js';
import type { VillageInfo } from './villages.js';
import { fleetWorld, villageWorld } from './world.js';

export interface FleetSimSettings extends FleetOptions {
  villages: VillageInfo[];
  mqtt: MqttConfig;
  config: Config;
  version: string;
  seed: string;
  speed: number;
  /** Simulated wall time at the start (ms); default now. A past origin replays a past day. */
  originWall?: number;
  /** Real seconds of simulation; undefined = until stopped. */
  durationS: number | undefined;
  /** Real seconds to stay connected answering commands after the duration. */
  lingerS: number;
  faults: ScriptedFault[];
  /** CONNECTs in progress at once. */
  connectConcurrency: number;
  log: Logger;
  progress(line: string): void;
}

export interface FleetSummary {
  villages: number;
  published: Published;
  resent: number;
}

export interface FleetStats {
  /** Real ms from start to the first CONNACK. */
  firstConnectMs: number | undefined;
  /** Real ms from start until every village had connected at least once (undefined: not yet). */
  allConnectedMs: number | undefined;
  connectedNow: number;
  rssMb: number;
}

/**
 * Runs N simulated gateways in one process on one agenda in simulated time. Each village
 * keeps its own MQTT connection (its own Will); the engine wakes when the next event is due.
 */
export class Fleet {
  private readonly s: FleetSimSettings;
  private readonly agenda = new Agenda();
  private readonly scheduler: Scheduler;
  private time: FleetTime | undefined;
  private villages: Village[] = [];
  private readonly published = emptyPublished();
  private readonly truth = new GroundTruth();
  private resentTotal = 0;
  private connectedNow = 0;
  private everConnected = 0;
  private distinctConnected = 0;
  private startedReal = 0;
  private allConnectedMs: number | undefined;
  private firstConnectMs: number | undefined;
  private producing = true;
  private wake: { cancel(): void } | undefined;
  private stopped = false;
  private running = false;

  constructor(settings: FleetSimSettings) {
    this.s = settings;
    this.scheduler = new Scheduler({ clock: new SystemClock(), log: settings.log });
  }

  start(): void {
    const s = this.s;
    const time = new FleetTime({ speed: s.speed, originWall: s.originWall ?? Date.now() });
    this.time = time;
    this.startedReal = performance.now();
    const gate = new ConnectGate(s.connectConcurrency);
    const shared =
      s.perConnection > 1
        ? new SharedConnections(s.perConnection, { mqtt: s.mqtt, gate, scheduler: this.scheduler })
        : undefined;
    const ctx: FleetContext = {
      time,
      at: (at, fn) => {
        const first = this.agenda.peek();
        this.agenda.push(at, fn);
        // Inside runDue the engine re-arms once at the end.
        if (!this.running && (first === undefined || at < first)) this.arm();
      },
      scheduler: this.scheduler,
      log: s.log,
      mqtt: s.mqtt,
      config: s.config,
      version: s.version,
      seed: s.seed,
      options: s,
      published: this.published,
      truth: this.truth,
      gate,
      session: (deps) => shared?.session(deps) ?? new VillageSession(deps),
      producing: () => this.producing,
      resent: (n) => {
        this.resentTotal += n;
      },
      connected: (up, first) => {
        this.connectedNow += up ? 1 : -1;
        if (!up) return;
        this.everConnected++;
        this.firstConnectMs ??= performance.now() - this.startedReal;
        if (first && ++this.distinctConnected === this.villages.length)
          this.allConnectedMs = performance.now() - this.startedReal;
      },
    };
    const t0 = time.originWall;
    this.villages = s.villages.map((info) => new Village(info, ctx));
    for (const v of this.villages) v.start(t0);
    for (const v of this.villages) villageWorld(ctx, v, t0);
    fleetWorld(ctx, seeded(`${s.seed}:fleet`), this.villages, t0);
    for (const f of s.faults) this.script(ctx, f, t0);
    if (s.durationS !== undefined) {
      const end = t0 + s.durationS * 1000 * s.speed;
      ctx.at(end, () => this.endProduction(end));
    }
    this.arm();
  }

  private script(ctx: FleetContext, f: ScriptedFault, t0: number): void {
    const at = t0 + f.atMs;
    ctx.at(at, () => {
      if (!this.producing) return;
      const lf = linkFaultOf(f.kind);
      for (const v of this.villages) {
        if (!selects(f, v.info)) continue;
        if (lf) v.addLinkFault(lf, at, f.durationMs);
        else if (f.kind === 'power') v.cutPower(at, f.durationMs);
        else if (f.kind === 'device') {
          v.setDevice('adm-1', false, at);
          ctx.at(at + f.durationMs, () => v.setDevice('adm-1', true, at + f.durationMs));
        }
      }
    });
  }

  /** The duration is over: no new samples or faults; power and links come back everywhere. */
  private endProduction(at: number): void {
    this.producing = false;
    for (const v of this.villages) v.heal(at);
  }

  get produced(): boolean {
    return !this.producing;
  }

  /** Runs every due event, then sleeps until the next one (at most 250 ms). */
  private arm(): void {
    if (this.stopped || !this.time) return;
    this.wake?.cancel();
    const next = this.agenda.peek();
    const delay = next === undefined ? 250 : Math.min(250, Math.max(5, this.time.realDelay(next)));
    this.wake = this.scheduler.after('fleet-sim-agenda', delay, () => {
      this.wake = undefined;
      this.runDue();
      this.arm();
    });
  }

  private runDue(): void {
    const time = this.time;
    if (!time) return;
    const now = time.live();
    this.running = true;
    for (let e = this.agenda.popDue(now); e; e = this.agenda.popDue(now)) {
      time.pin(e.at);
      try {
        e.fn();
      } catch (err) {
        this.s.log.error({ err }, 'fleet-sim: event failed');
      } finally {
        time.pin(undefined);
      }
    }
    this.running = false;
  }

  drained(): boolean {
    return this.villages.every((v) => v.drained());
  }

  stats(): FleetStats {
    return {
      firstConnectMs: this.firstConnectMs,
      allConnectedMs: this.allConnectedMs,
      connectedNow: this.connectedNow,
      rssMb: Math.round(process.memoryUsage().rss / 1048576),
    };
  }

  simElapsedS(): number {
    return this.time ? Math.round(this.time.elapsed() / 1000) : 0;
  }

  /** What was done to each village (down spans, simulated wall time), with the run's origin and speed. */
  groundTruth(): { origin: string; speed: number; down: TruthSpan[] } {
    return {
      origin: new Date(this.time?.originWall ?? 0).toISOString(),
      speed: this.s.speed,
      down: this.truth.all(),
    };
  }

  summary(): FleetSummary {
    return { villages: this.villages.length, published: { ...this.published }, resent: this.resentTotal };
  }

  /** Real-time wait on the fleet's scheduler. */
  sleep(ms: number): Promise<void> {
    return new Promise((r) => this.scheduler.after('fleet-sim-wait', ms, r));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.cancel();
    await Promise.all(this.villages.map((v) => v.stop()));
    this.scheduler.stop();
  }

  get size(): number {
    return this.villages.length;
  }

  get connections(): number {
    return this.everConnected;
  }
}
