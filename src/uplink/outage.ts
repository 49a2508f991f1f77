import type { Layer } from './config-schema.js';
import { type ProbeTrack, windowStats } from './track.js';
import type { Verdict } from './verdict.js';

export interface Instant {
  mono: number;
  wall: number;
}

export interface OpenOutage {
  start: Instant;
  layer: Layer | null;
  layerSinceMono: number;
  /** How long each layer was the named fault: the ledger keeps the one that held longest. */
  layerMs: Partial<Record<Layer, number>>;
  loss_pct_before: number | null;
  rtt_ms_before: number | null;
}

export interface EndedOutage {
  start: Instant;
  end: Instant;
  /** From the monotonic clock: right even when NTP stepped the wall clock meanwhile. */
  duration_ms: number;
  fault_layer: Layer | null;
  loss_pct_before: number | null;
  rtt_ms_before: number | null;
}

function accumulate(o: OpenOutage, nowMono: number): Partial<Record<Layer, number>> {
  if (!o.layer) return o.layerMs;
  const held = Math.max(0, nowMono - o.layerSinceMono);
  return { ...o.layerMs, [o.layer]: (o.layerMs[o.layer] ?? 0) + held };
}

function longest(layerMs: Partial<Record<Layer, number>>): Layer | null {
  let best: Layer | null = null;
  for (const [l, ms] of Object.entries(layerMs) as Array<[Layer, number]>) {
    if (best === null || ms > (layerMs[best] ?? 0)) best = l;
  }
  return best;
}

/**
 * Opens, follows and closes the outage from successive verdicts (pure). An outage starts at
 * the first failed round that led to `down` and ends at the first good round of the streak
 * that brought the link back, so its duration matches the real cut rather than the
 * hysteresis around it.
 */
export function advanceOutage(
  open: OpenOutage | null,
  v: Verdict,
  tracks: readonly ProbeTrack[],
  now: Instant,
): { open: OpenOutage | null; ended: EndedOutage | null } {
  if (v.verdict === 'down') {
    if (!open) {
      const start = v.failingSince ?? now;
      const before = windowStats(
        tracks
          .filter((t) => t.layer === v.fault_layer)
          .flatMap((t) => t.samples.filter((s) => s.mono < start.mono)),
      );
      return {
        open: {
          start,
          layer: v.fault_layer,
          layerSinceMono: start.mono,
          layerMs: {},
          loss_pct_before: before.loss_pct,
          rtt_ms_before: before.rtt_ms,
        },
        ended: null,
      };
    }
    if (open.layer === v.fault_layer) return { open, ended: null };
    return {
      open: { ...open, layerMs: accumulate(open, now.mono), layer: v.fault_layer, layerSinceMono: now.mono },
      ended: null,
    };
  }
  if (!open) return { open: null, ended: null };
  let end: Instant = now;
  let latestOk: Instant | null = null;
  for (const t of tracks) {
    if (t.firstOk && t.firstOk.mono > open.start.mono && (!latestOk || t.firstOk.mono > latestOk.mono))
      latestOk = t.firstOk;
  }
  if (latestOk && latestOk.mono <= now.mono) end = latestOk;
  const layerMs = accumulate(open, Math.max(end.mono, open.layerSinceMono));
  return {
    open: null,
    ended: {
      start: open.start,
      end,
      duration_ms: Math.max(0, end.mono - open.start.mono),
      fault_layer: longest(layerMs) ?? open.layer,
      loss_pct_before: open.loss_pct_before,
      rtt_ms_before: open.rtt_ms_before,
    },
  };
}
