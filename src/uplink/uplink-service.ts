import type { Clock } from '../core/clock.js';
import { isGwError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { Scheduler, TaskHandle } from '../core/scheduler.js';
import type { Service } from '../core/service.js';
import type { GatewayBus } from '../events.js';
import {
  createProbe as defaultCreateProbe,
  createSampler as defaultCreateSampler,
} from '../probes/registry.js';
import type { Probe, ProbeDeps, ProbeResult } from '../probes/types.js';
import type { LinkStatus, StatusSection } from '../status/types.js';
import type { SectionState } from '../store/live-snapshot.js';
import type { Store } from '../store/store.js';
import type { WriteTick } from '../store/write-tick.js';
import { type BeatDeps, ProbeBeat } from './beat.js';
import { LAYERS, type UplinkConfig } from './config-schema.js';
import type { HistoryRepo } from './history-repo.js';
import { HistoryWriter } from './history-writer.js';
import { linkStatus } from './link-status.js';
import { advanceOutage, type OpenOutage } from './outage.js';
import type { OutageRepo } from './outage-repo.js';
import type { StateName } from './rollup.js';
import {
  forgetSince,
  markBroken,
  newTrack,
  observe,
  type ProbeTrack,
  rejudgeAbove,
  type Sample,
  type TrackOptions,
} from './track.js';
import { computeVerdict, type Verdict } from './verdict.js';

export interface UplinkDeps {
  config: UplinkConfig;
  clock: Clock;
  scheduler: Scheduler;
  store: Store;
  bus: GatewayBus;
  log: Logger;
  state: SectionState;
  /** Rounds and minutes are flushed on it (every 5 minutes), in the one periodic commit. */
  writeTick: Pick<WriteTick, 'add'>;
  history: HistoryRepo;
  outages: OutageRepo;
  /** Interface facts for the status section (optional, see InterfaceMonitor). */
  iface?: { current(): LinkStatus['iface'] };
  /** Consulted before raw history is written (disk nearly full → raw rounds are skipped). */
  diskGuard?: { allowLowValueWrites(): boolean };
  createProbe?: (spec: Parameters<typeof defaultCreateProbe>[0], deps: ProbeDeps) => Probe;
  /** Samplers (one fping for all icmp targets); by default the registry's, unless createProbe is given. */
  createSampler?: BeatDeps['createSampler'];
}

/** Watches the uplink ladder, names the failing layer, keeps the outage ledger and history. */
export class UplinkService implements Service, StatusSection<'link'> {
  readonly name = 'uplink';
  readonly section = 'link' as const;
  private readonly deps: UplinkDeps;
  private readonly opts: TrackOptions;
  private readonly writer: HistoryWriter;
  private tracks: ProbeTrack[] = [];
  private last: Array<{ result: ProbeResult | null; error: string | null }> = [];
  private tasks: Array<TaskHandle | { cancel(): void }> = [];
  private beat: ProbeBeat | null = null;
  private leaveTick: (() => void) | undefined;
  private verdict: Verdict = { verdict: 'unknown', fault_layer: null, layers: {}, failingSince: null };
  private since: number | null = null;
  private outage: OpenOutage | null = null;
  private outageId: number | null = null;
  private lastEvalMono: number | null = null;
  private status: LinkStatus | null = null;
  private stopped = false;

  constructor(deps: UplinkDeps) {
    this.deps = deps;
    const d = deps.config.degraded;
    this.opts = { windowMs: d.window_s * 1000, lossPct: d.loss_pct, rttMs: d.rtt_ms, minPackets: 10 };
    this.writer = new HistoryWriter(deps);
  }

  start(): void {
    this.stopped = false;
    const { config, clock, scheduler, store } = this.deps;
    const make = this.deps.createProbe ?? defaultCreateProbe;
    const probeDeps: ProbeDeps = { clock, log: this.deps.log };
    // The last moment the previous run is known to have watched: its last stored rounds or
    // its last persisted link state, whichever is later.
    const lastSeen = Math.max(
      this.deps.history.lastRawWall() ?? 0,
      this.deps.state.get('link')?.updated_wall ?? 0,
    );
    const leftOpen = store.durable(() => this.deps.outages.closeInterrupted(lastSeen || null));
    if (leftOpen.length > 0) {
      this.deps.log.warn({ outages: leftOpen.length }, 'closed outages left open by the previous run');
      // The regency still gets these (flagged): a power cut during a fiber cut is evidence too.
      for (const o of leftOpen) {
        this.deps.bus.emit('outage.ended', {
          start: new Date(o.start_wall).toISOString(),
          end: new Date(o.end_wall).toISOString(),
          duration_s: Math.round(o.duration_ms / 100) / 10,
          fault_layer: o.fault_layer,
          interrupted: true,
        });
      }
    }
    this.tracks = config.probes.map((p) =>
      newTrack(p.name, p.layer, p.down_after ?? config.down_after, p.up_after ?? config.up_after),
    );
    this.last = config.probes.map(() => ({ result: null, error: null }));
    const injected = this.deps.createProbe !== undefined;
    this.beat = new ProbeBeat({
      specs: config.probes,
      clock,
      scheduler,
      probeDeps,
      createProbe: make,
      createSampler: this.deps.createSampler ?? (injected ? undefined : defaultCreateSampler),
      onResult: (i, r, inBeat) => {
        if (this.stopped) return;
        this.record(i, r);
        if (!inBeat) this.evaluate();
      },
      onBeat: () => this.evaluate(),
    });
    this.beat.start();
    // Rounds and minutes are written on the write tick (every 5 minutes), in one commit with the
    // other periodic writers; expired history goes in the same commit (once the tables hold 48 h
    // of raw rounds and 30 days of minutes, every tick has some to delete: three commits of
    // their own, one per table, before).
    this.leaveTick = this.deps.writeTick.add({
      name: 'uplink-history',
      write: () => {
        this.flush();
        try {
          this.writer.prune();
        } catch (err) {
          // Expired history waits for the next tick; the rounds just written stay.
          this.deps.log.warn({ err }, 'uplink history prune failed');
        }
      },
    });
    this.evaluate();
    this.persist();
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.tasks) t.cancel();
    this.tasks = [];
    this.leaveTick?.();
    this.leaveTick = undefined;
    this.beat?.stop();
    this.beat = null;
    this.evaluate();
    this.writer.flush(true);
    this.persist();
  }

  live(): LinkStatus {
    if (!this.status) this.status = this.render();
    return this.status;
  }

  private record(i: number, r: ProbeResult | Error): void {
    const spec = this.deps.config.probes[i]!;
    if (r instanceof Error) {
      const reason = isGwError(r) ? r.message : String(r);
      // Logged once per breakage, not every round: a missing fping would flood the journal.
      if (this.last[i]?.error !== reason)
        this.deps.log.error({ err: r, probe: spec.name }, 'uplink probe cannot run');
      this.last[i] = { result: null, error: reason };
      this.tracks[i] = markBroken(this.tracks[i]!, reason);
      return;
    }
    const { clock } = this.deps;
    const ok = r.outcome === 'ok';
    const sent = typeof r.fields.sent === 'number' ? r.fields.sent : 1;
    const received = typeof r.fields.received === 'number' ? r.fields.received : ok ? 1 : 0;
    const sample: Sample = {
      mono: clock.monoMs(),
      wall: clock.wallMs(),
      ok,
      sent,
      lost: Math.max(0, sent - received),
      latency_ms: r.latency_ms,
      outcome: r.outcome,
    };
    if (this.last[i]?.error) this.deps.log.info({ probe: spec.name }, 'uplink probe works again');
    this.last[i] = { result: r, error: null };
    this.tracks[i] = observe(this.tracks[i]!, sample, this.opts);
    this.writer.addSample(spec.name, spec.layer, sample, r.fields);
  }

  private evaluate(): void {
    const { clock } = this.deps;
    const now = { mono: clock.monoMs(), wall: clock.wallMs() };
    const prev = this.verdict;
    if (this.lastEvalMono !== null)
      this.writer.addStates(stateKeys(prev), now.mono - this.lastEvalMono, now.wall);
    this.lastEvalMono = now.mono;
    let v = computeVerdict(this.tracks, false);
    const was = prev.fault_layer;
    if (
      was &&
      v.fault_layer !== was &&
      (!v.fault_layer || LAYERS.indexOf(v.fault_layer) > LAYERS.indexOf(was))
    ) {
      this.tracks = rejudgeAbove(this.tracks, was, LAYERS);
      v = computeVerdict(this.tracks, false);
    }
    this.verdict = v;
    const o = advanceOutage(this.outage, v, this.tracks, now);
    if (!this.outage && o.open) this.openOutage(o.open);
    this.outage = o.open;
    if (o.ended) {
      const from = o.ended.start.mono;
      this.tracks = this.tracks.map((t) => forgetSince(t, from));
      this.verdict = computeVerdict(this.tracks, false);
      this.closeOutage(o.ended);
    }
    v = this.verdict;
    const changed = v.verdict !== prev.verdict || v.fault_layer !== prev.fault_layer;
    if (changed) this.since = v.verdict === 'down' && this.outage ? this.outage.start.wall : now.wall;
    const layersChanged = LAYERS.some((l) => v.layers[l]?.state !== prev.layers[l]?.state);
    this.status = null;
    if (changed) {
      this.deps.log.info({ verdict: v.verdict, fault_layer: v.fault_layer }, 'link verdict changed');
      this.deps.bus.emit('link.changed', this.live());
    }
    if (changed || layersChanged) this.persist();
  }

  private openOutage(o: OpenOutage): void {
    try {
      this.outageId = this.deps.store.durable(() =>
        this.deps.outages.open(o.start, o.layer, o.loss_pct_before, o.rtt_ms_before),
      );
    } catch (err) {
      this.deps.log.warn({ err }, 'could not record outage start');
    }
  }

  private closeOutage(e: NonNullable<ReturnType<typeof advanceOutage>['ended']>): void {
    const id = this.outageId;
    this.outageId = null;
    try {
      if (id !== null) this.deps.store.durable(() => this.deps.outages.close(id, e));
    } catch (err) {
      this.deps.log.warn({ err }, 'could not record outage end');
    }
    const payload = {
      start: new Date(e.start.wall).toISOString(),
      end: new Date(e.end.wall).toISOString(),
      duration_s: Math.round(e.duration_ms / 100) / 10,
      fault_layer: e.fault_layer,
    };
    this.deps.log.info(payload, 'outage ended');
    this.deps.bus.emit('outage.ended', payload);
  }

  private flush(): void {
    this.writer.flush();
    this.persist();
  }

  private persist(): void {
    try {
      this.deps.state.put('link', this.live(), this.deps.clock.wallMs());
    } catch (err) {
      this.deps.log.warn({ err }, 'could not persist link state');
    }
  }

  private render(): LinkStatus {
    return linkStatus({
      probes: this.deps.config.probes,
      tracks: this.tracks,
      last: this.last,
      // With the per-layer loss/RTT, computed only when someone looks.
      verdict: computeVerdict(this.tracks),
      since: this.since,
      outage: this.outage,
      iface: this.deps.iface?.current() ?? null,
    });
  }
}

function stateKeys(v: Verdict): Record<string, StateName> {
  const out: Record<string, StateName> = { link: v.verdict };
  for (const l of LAYERS) {
    const s = v.layers[l]?.state;
    if (s) out[`layer:${l}`] = s;
  }
  return out;
}
