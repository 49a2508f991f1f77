import type { LinkVerdict } from '../status/types.js';
import { LAYERS, type Layer } from './config-schema.js';
import { type ProbeTrack, windowStats } from './track.js';

export type LayerState = 'up' | 'degraded' | 'down' | 'unknown';

export interface LayerView {
  state: LayerState;
  loss_pct: number | null;
  rtt_ms: number | null;
}

export interface Verdict {
  verdict: LinkVerdict;
  fault_layer: Layer | null;
  layers: Partial<Record<Layer, LayerView>>;
  /** Back-dated start of the failure: the first failed round among the down probes. */
  failingSince: { mono: number; wall: number } | null;
}

/**
 * How a layer's probes combine. `internet` is a quorum of public anchors (`all`): it fails
 * only when every anchor fails, so one dead host does not flip it. Every other layer is one
 * part of the path (one router, one ONT, the regency's service), so any of its probes
 * failing takes it down (`any`).
 */
export const layerRule = (layer: string): 'all' | 'any' => (layer === 'internet' ? 'all' : 'any');

/** The ladder's rule for one layer: `failed` of its `of` probes failing, is the layer failed? */
export function layerFailed(layer: string, failed: number, of: number): boolean {
  if (failed === 0) return false;
  return layerRule(layer) === 'all' ? failed === of : true;
}

/** A layer's own state from its probes, by its rule (layerRule). */
function layerState(layer: Layer, probes: readonly ProbeTrack[]): LayerState {
  const judged = probes.filter((p) => p.state !== 'unknown');
  if (judged.length === 0) return 'unknown';
  const down = judged.filter((p) => p.state === 'down');
  if (layerFailed(layer, down.length, probes.length)) return 'down';
  const up = judged.filter((p) => p.state === 'up');
  // Some anchors down and the others not judged yet: the quorum is still open.
  if (up.length === 0) return 'unknown';
  const degraded = layerRule(layer) === 'all' ? up.every((p) => p.degraded) : up.some((p) => p.degraded);
  return degraded ? 'degraded' : 'up';
}

/** Whether the layer's latest rounds failed (quorum for internet): a failure still building up. */
function failingNow(layer: Layer, probes: readonly ProbeTrack[]): boolean {
  const live = probes.filter((p) => !p.broken && p.samples.length > 0);
  if (live.length === 0) return false;
  // Half of down_after: a single random loss below a real fault does not steal the blame.
  const failing = live.filter((p) => p.fails >= Math.max(1, Math.ceil(p.downAfter / 2)));
  return layerFailed(layer, failing.length, live.length);
}

/**
 * The link verdict (pure). Walks the ladder lan → regency: the lowest down layer is the
 * fault; layers above it are `unknown` (they cannot be judged through a broken layer).
 * Because probes reach `down_after` at slightly different moments, a cut of the first hop
 * can bring an upper probe down a fraction of a second before the lan probe: when a layer
 * below the lowest down one is failing right now, it is named the fault instead.
 */
export function computeVerdict(tracks: readonly ProbeTrack[], withStats = true): Verdict {
  const byLayer = new Map<Layer, ProbeTrack[]>();
  for (const t of tracks) byLayer.set(t.layer, [...(byLayer.get(t.layer) ?? []), t]);
  const present = LAYERS.filter((l) => byLayer.has(l));
  const layers: Partial<Record<Layer, LayerView>> = {};
  let fault: Layer | null = null;
  for (const layer of present) {
    const probes = byLayer.get(layer)!;
    // Loss/RTT per layer are for display; the service skips them on its per-round path.
    const stats = withStats ? windowStats(probes.flatMap((p) => p.samples)) : null;
    const state = fault ? 'unknown' : layerState(layer, probes);
    layers[layer] = { state, loss_pct: stats?.loss_pct ?? null, rtt_ms: stats?.rtt_ms ?? null };
    if (state === 'down') fault = layer;
  }
  if (fault) {
    const lower = present.slice(0, present.indexOf(fault));
    const suspect = lower.find((l) => failingNow(l, byLayer.get(l)!));
    if (suspect) {
      for (const l of present.slice(present.indexOf(suspect))) layers[l]!.state = 'unknown';
      layers[suspect]!.state = 'down';
      fault = suspect;
    }
  }
  const states = present.map((l) => layers[l]!.state);
  let verdict: LinkVerdict = 'up';
  if (fault) verdict = 'down';
  else if (states.length === 0 || states.every((s) => s === 'unknown')) verdict = 'unknown';
  else if (states.includes('degraded')) verdict = 'degraded';
  return {
    verdict,
    fault_layer: fault,
    layers,
    failingSince: fault ? since(fault, byLayer.get(fault)!) : null,
  };
}

/**
 * When the fault layer started failing: its earliest failing probe, except for the internet
 * quorum, which was lost only when its last anchor started failing (another anchor may have
 * been dead for days).
 */
function since(layer: Layer, probes: readonly ProbeTrack[]): Verdict['failingSince'] {
  let pick: Verdict['failingSince'] = null;
  for (const p of probes) {
    const f = p.firstFail;
    if (!f) continue;
    if (!pick || (layer === 'internet' ? f.mono > pick.mono : f.mono < pick.mono)) pick = f;
  }
  return pick;
}
