import type { Clock } from '../core/clock.js';
import type { Scheduler, TaskHandle } from '../core/scheduler.js';
import { intervalMsOf, type ProbeSpec, timeoutOf } from '../probes/spec-schema.js';
import type { Probe, ProbeDeps, ProbeResult, ProbeSampler } from '../probes/types.js';

/** The uplink's one timer: every probe starts, times out and is read on this beat. */
export const BEAT_MS = 1000;
/** A sampler that failed or ended early is started again after this long, not every beat. */
const RESTART_BACKOFF_MS = 30_000;

export interface BeatDeps {
  specs: readonly ProbeSpec[];
  clock: Clock;
  scheduler: Scheduler;
  probeDeps: ProbeDeps;
  createProbe(spec: ProbeSpec, deps: ProbeDeps): Probe;
  /** A sampler for specs sharing type, interval and timeout; undefined = run them one by one. */
  createSampler?(specs: readonly ProbeSpec[], deps: ProbeDeps): ProbeSampler | undefined;
  random?: () => number;
  /**
   * Spec i produced a result, or could not run (an Error: the probe is broken). `inBeat`: read
   * by the beat, which calls onBeat() when all of its results are in.
   */
  onResult(i: number, r: ProbeResult | Error, inBeat: boolean): void;
  /** Called at the end of each beat, after the sampled results of the beat. */
  onBeat(): void;
}

interface Run {
  i: number;
  probe: Probe;
  intervalMs: number;
  timeoutMs: number;
  due: number;
  inflight: { controller: AbortController; deadline: number } | null;
}

interface Sampled {
  sampler: ProbeSampler;
  index: number[];
  /** null until the first beat starts it (so that it is offset from the beat's phase). */
  startedAt: number | null;
  retryAt: number;
  pending: { cancel(): void } | null;
}

/**
 * Runs the uplink probes on a single 1 s beat instead of one timer per probe (and one more
 * per probe timeout). On a small box every wake-up of the process costs more CPU than the
 * probe's own work, so the beat wakes once a second for everything: it aborts runs past their
 * deadline (timeouts are therefore rounded up to whole beats), reads the samplers, then starts
 * the runs that are due. Probes of a type with a sampler (icmp) are watched continuously by one
 * process per interval/timeout group and read here, so their packets wake nothing.
 */
export class ProbeBeat {
  private readonly d: BeatDeps;
  private runs: Run[] = [];
  private sampled: Sampled[] = [];
  private task: TaskHandle | null = null;
  private stopped = true;

  constructor(deps: BeatDeps) {
    this.d = deps;
  }

  start(): void {
    const { specs, probeDeps, clock } = this.d;
    this.stopped = false;
    const now = clock.monoMs();
    const groups = new Map<string, number[]>();
    specs.forEach((spec, i) => {
      const key = `${spec.type}/${intervalMsOf(spec)}/${timeoutOf(spec)}`;
      if (this.d.createSampler) groups.set(key, [...(groups.get(key) ?? []), i]);
      else this.addRun(i, now);
    });
    for (const index of groups.values()) {
      const sampler = this.d.createSampler?.(
        index.map((i) => specs[i]!),
        probeDeps,
      );
      if (!sampler) for (const i of index) this.addRun(i, now);
      else this.sampled.push({ sampler, index, startedAt: null, retryAt: now, pending: null });
    }
    this.runs.sort((a, b) => a.i - b.i);
    // On the scheduler's shared tick: the daemon's other periodic work wakes with the beat.
    this.task = this.d.scheduler.every({
      name: 'uplink:beat',
      intervalMs: BEAT_MS,
      fixedRate: true,
      coarse: true,
      initialDelayMs: 0,
      run: () => this.beat(),
    });
  }

  stop(): void {
    this.stopped = true;
    this.task?.cancel();
    this.task = null;
    for (const r of this.runs) {
      r.inflight?.controller.abort();
      r.probe.close?.();
    }
    for (const g of this.sampled) {
      g.pending?.cancel();
      g.sampler.stop();
    }
    this.runs = [];
    this.sampled = [];
  }

  private addRun(i: number, now: number): void {
    const spec = this.d.specs[i]!;
    const probe = this.d.createProbe(spec, this.d.probeDeps);
    this.runs.push({
      i,
      probe,
      intervalMs: intervalMsOf(spec),
      timeoutMs: timeoutOf(spec),
      due: now,
      inflight: null,
    });
  }

  private startSampler(g: Sampled): void {
    g.pending?.cancel();
    // Offset from the beat so that each beat finds the previous packets answered or timed out.
    g.pending = this.d.scheduler.after('uplink:sampler-start', g.sampler.startOffsetMs, () => {
      g.pending = null;
      if (this.stopped) return;
      g.startedAt = this.d.clock.monoMs();
      g.sampler.start();
    });
  }

  private beat(): void {
    const now = this.d.clock.monoMs();
    // Small tolerance: a beat that fires a few ms early must not leave a deadline for the next.
    const horizon = now + 20;
    for (const r of this.runs)
      if (r.inflight && horizon >= r.inflight.deadline) r.inflight.controller.abort();
    for (const g of this.sampled) this.read(g, now);
    this.d.onBeat();
    for (const r of this.runs) if (!r.inflight && horizon >= r.due) this.launch(r, now);
  }

  private read(g: Sampled, now: number): void {
    const results = g.sampler.take();
    let broken = false;
    results.forEach((r, k) => {
      if (r === null) return;
      if (r instanceof Error) broken = true;
      this.d.onResult(g.index[k]!, r, true);
    });
    if (g.pending || g.sampler.running()) return;
    if (g.startedAt === null) {
      this.startSampler(g);
      return;
    }
    // Ended: after its lifetime, start at once; after a failure or an early end, back off.
    const early = now - g.startedAt < 2 * intervalMsOf(g.sampler.specs[0]!) + BEAT_MS;
    if (broken || early) {
      if (g.retryAt <= g.startedAt) g.retryAt = now + RESTART_BACKOFF_MS;
      if (now < g.retryAt) return;
    }
    this.startSampler(g);
  }

  private launch(r: Run, now: number): void {
    const controller = new AbortController();
    r.inflight = { controller, deadline: now + r.timeoutMs };
    // Runs are never more often than the beat; slower ones get a little jitter so that
    // villages restarted together by one power cut drift apart.
    const jitter =
      r.intervalMs > BEAT_MS
        ? Math.floor((this.d.random ?? Math.random)() * Math.min(r.intervalMs * 0.1, 3000))
        : 0;
    r.due = now + Math.max(r.intervalMs, BEAT_MS) - BEAT_MS / 2 + jitter;
    r.probe.run(controller.signal).then(
      (result) => this.settle(r, controller, result),
      (err: unknown) => this.settle(r, controller, err instanceof Error ? err : new Error(String(err))),
    );
  }

  private settle(r: Run, controller: AbortController, result: ProbeResult | Error): void {
    if (r.inflight?.controller !== controller) return;
    r.inflight = null;
    if (this.stopped) return;
    this.d.onResult(r.i, result, false);
  }
}
