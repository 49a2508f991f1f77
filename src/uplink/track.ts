import type { Layer } from './config-schema.js';

/** One probe round as the verdict sees it. Times are the monotonic clock (durations) + wall (stamps). */
export interface Sample {
  mono: number;
  wall: number;
  ok: boolean;
  /** Packets (or attempts) sent and lost in the round: icmp rounds may carry several. */
  sent: number;
  lost: number;
  latency_ms: number | null;
  outcome: string;
}

export type ProbeState = 'up' | 'down' | 'unknown';

/** What the verdict keeps per probe; replaced (never mutated) by `observe`. */
export interface ProbeTrack {
  name: string;
  layer: Layer;
  downAfter: number;
  upAfter: number;
  state: ProbeState;
  /** Consecutive failed / good rounds ending with the latest. */
  fails: number;
  oks: number;
  /** First failed round of the current failing streak: an outage is back-dated to it. */
  firstFail: { mono: number; wall: number } | null;
  /** First good round of the current good streak: an outage's end is back-dated to it. */
  firstOk: { mono: number; wall: number } | null;
  degraded: boolean;
  /** Rounds within the degraded window, oldest first. */
  samples: Sample[];
  /** Set when the probe itself cannot run (fping missing): the layer is unknown, not down. */
  broken: string | null;
}

export interface TrackOptions {
  windowMs: number;
  lossPct: number;
  rttMs: Record<Layer, number>;
  /** Too few packets in the window say nothing about loss. */
  minPackets: number;
}

export function newTrack(name: string, layer: Layer, downAfter: number, upAfter: number): ProbeTrack {
  return {
    name,
    layer,
    downAfter,
    upAfter,
    state: 'unknown',
    fails: 0,
    oks: 0,
    firstFail: null,
    firstOk: null,
    degraded: false,
    samples: [],
    broken: null,
  };
}

export interface WindowStats {
  loss_pct: number | null;
  rtt_ms: number | null;
  packets: number;
}

export function windowStats(samples: readonly Sample[]): WindowStats {
  let sent = 0;
  let lost = 0;
  const rtts: number[] = [];
  for (const s of samples) {
    sent += s.sent;
    lost += s.lost;
    if (s.latency_ms !== null && s.ok) rtts.push(s.latency_ms);
  }
  rtts.sort((a, b) => a - b);
  const mid = rtts.length >> 1;
  const median = rtts.length === 0 ? null : rtts.length % 2 ? rtts[mid]! : (rtts[mid - 1]! + rtts[mid]!) / 2;
  return {
    loss_pct: sent > 0 ? Math.round((lost / sent) * 1000) / 10 : null,
    rtt_ms: median === null ? null : Math.round(median * 10) / 10,
    packets: sent,
  };
}

/**
 * Folds one round into a probe's track (pure). Hysteresis: `downAfter` consecutive failures
 * take it down, `upAfter` consecutive successes bring a down probe back; a probe that has
 * never been judged is up at its first success (nothing to recover from). Degraded enters
 * at the loss/RTT thresholds and leaves only well below them, so it does not flap.
 */
export function observe(track: ProbeTrack, s: Sample, opts: TrackOptions): ProbeTrack {
  const fails = s.ok ? 0 : track.fails + 1;
  const oks = s.ok ? track.oks + 1 : 0;
  let state = track.state;
  if (!s.ok && fails >= track.downAfter) state = 'down';
  else if (s.ok && (state === 'unknown' || oks >= track.upAfter)) state = 'up';
  const firstFail = s.ok ? null : (track.firstFail ?? { mono: s.mono, wall: s.wall });
  const firstOk = s.ok ? (track.firstOk ?? { mono: s.mono, wall: s.wall }) : null;
  const cutoff = s.mono - opts.windowMs;
  // Back up from down: the outage's rounds are the outage's, not loss on a working link;
  // keeping them would hold the verdict at "degraded" for a whole window after every repair.
  const recovered = track.state === 'down' && state === 'up';
  const kept = recovered ? track.samples.slice(track.samples.length - (oks - 1)) : track.samples;
  const samples = kept.filter((x) => x.mono > cutoff);
  samples.push(s);
  const w = windowStats(samples);
  const rttLimit = opts.rttMs[track.layer];
  const lossy = w.packets >= opts.minPackets && w.loss_pct !== null;
  let degraded = recovered ? false : track.degraded;
  if (!degraded) {
    degraded = (lossy && w.loss_pct! >= opts.lossPct) || (w.rtt_ms !== null && w.rtt_ms > rttLimit);
  } else {
    const lossOk = !lossy || w.loss_pct! < opts.lossPct / 2;
    const rttOk = w.rtt_ms === null || w.rtt_ms <= rttLimit * 0.8;
    degraded = !(lossOk && rttOk);
  }
  return { ...track, state, fails, oks, firstFail, firstOk, samples, degraded, broken: null };
}

/** The probe could not run at all: its layer is not judged from it. */
export function markBroken(track: ProbeTrack, reason: string): ProbeTrack {
  return { ...track, state: 'unknown', fails: 0, oks: 0, firstFail: null, firstOk: null, broken: reason };
}

/**
 * When a lower layer comes back, probes above it that went down "through" it are judged
 * afresh: their failures were the lower layer's, and keeping them would name a layer that
 * is merely a round or two behind in recovering (a false "down/dns" after an ISP repair).
 */
export function rejudgeAbove(
  tracks: readonly ProbeTrack[],
  layer: Layer,
  order: readonly Layer[],
): ProbeTrack[] {
  const rank = order.indexOf(layer);
  return tracks.map((t) =>
    order.indexOf(t.layer) > rank && t.state === 'down'
      ? { ...t, state: 'unknown', fails: 0, oks: 0, firstFail: null, firstOk: null }
      : t,
  );
}

/** Drops the rounds of an outage from the loss window: they are the outage, not link quality. */
export function forgetSince(track: ProbeTrack, fromMono: number): ProbeTrack {
  const samples = track.samples.filter((s) => s.mono < fromMono);
  return samples.length === track.samples.length ? track : { ...track, samples, degraded: false };
}
