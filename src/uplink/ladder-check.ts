import { isGwError } from '../core/errors.js';
import { fpingAvailability } from '../probes/icmp.js';
import { createProbe } from '../probes/registry.js';
import { oneRunMsOf, probeDetail } from '../probes/spec-schema.js';
import type { ProbeDeps } from '../probes/types.js';
import { LAYERS, type UplinkConfig } from './config-schema.js';
import { layerFailed } from './verdict.js';
import { FAULT_HINTS } from './words.js';

export interface LadderStep {
  name: string;
  layer: string;
  type: string;
  outcome: string;
  latency_ms: number | null;
  detail: string | null;
}

export interface LadderReport {
  steps: LadderStep[];
  /** The lowest layer with a failing probe (internet only when all its probes fail). */
  fault_layer: string | null;
  hint: string | null;
  fping: { available: boolean; reason: string | null };
}

/**
 * One round of every uplink probe, for `kampung-gw doctor` (no hysteresis: a one-off look).
 * Runs the probes one after another, lowest layer first, each bounded by its timeout.
 */
export async function checkLadder(config: UplinkConfig, deps: ProbeDeps): Promise<LadderReport> {
  const fping = config.probes.some((p) => p.type === 'icmp')
    ? await fpingAvailability()
    : { available: true, reason: null };
  const steps: LadderStep[] = [];
  for (const spec of config.probes) {
    const probe = createProbe(spec, deps);
    try {
      const r = await probe.run(AbortSignal.timeout(oneRunMsOf(spec) + 500));
      steps.push({
        name: spec.name,
        layer: spec.layer,
        type: spec.type,
        outcome: r.outcome,
        latency_ms: r.latency_ms,
        detail: probeDetail(spec.type, r.fields),
      });
    } catch (err) {
      steps.push({
        name: spec.name,
        layer: spec.layer,
        type: spec.type,
        outcome: 'broken',
        latency_ms: null,
        detail: isGwError(err) ? err.message : String(err),
      });
    } finally {
      probe.close?.();
    }
  }
  let fault: string | null = null;
  for (const layer of LAYERS) {
    const mine = steps.filter((s) => s.layer === layer && s.outcome !== 'broken');
    const failed = mine.filter((s) => s.outcome !== 'ok');
    if (layerFailed(layer, failed.length, mine.length)) {
      fault = layer;
      break;
    }
  }
  return {
    steps,
    fault_layer: fault,
    hint: fault ? (FAULT_HINTS[fault] ?? null) : null,
    fping: { available: fping.available, reason: fping.reason },
  };
}
