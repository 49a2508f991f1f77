import { probeDetail } from '../probes/spec-schema.js';
import type { ProbeResult } from '../probes/types.js';
import type { LinkStatus, ProbeStatus } from '../status/types.js';
import type { UplinkProbeConfig } from './config-schema.js';
import type { OpenOutage } from './outage.js';
import { type ProbeTrack, windowStats } from './track.js';
import type { Verdict } from './verdict.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** The SPEC `link` object (plus per-probe detail and problems) from the service's state. */
export function linkStatus(s: {
  probes: readonly UplinkProbeConfig[];
  tracks: readonly ProbeTrack[];
  last: ReadonlyArray<{ result: ProbeResult | null; error: string | null }>;
  verdict: Verdict;
  since: number | null;
  outage: OpenOutage | null;
  iface: LinkStatus['iface'];
}): LinkStatus {
  const layers: LinkStatus['layers'] = {};
  for (const [layer, view] of Object.entries(s.verdict.layers)) layers[layer] = { ...view };
  const probes: Record<string, ProbeStatus> = {};
  const problems: string[] = [];
  s.probes.forEach((p, i) => {
    const t = s.tracks[i];
    const last = s.last[i];
    const w = t ? windowStats(t.samples) : null;
    probes[p.name] = {
      layer: p.layer,
      type: p.type,
      state: t?.state ?? 'unknown',
      degraded: t?.degraded ?? false,
      outcome: last?.result?.outcome ?? null,
      latency_ms: last?.result?.latency_ms ?? null,
      loss_pct: w?.loss_pct ?? null,
      detail: last?.error ?? (last?.result ? probeDetail(p.type, last.result.fields) : null),
    };
    if (last?.error) problems.push(`probe ${p.name}: ${last.error}`);
  });
  return {
    verdict: s.verdict.verdict,
    fault_layer: s.verdict.fault_layer,
    since: iso(s.since),
    layers,
    outage: s.outage ? { start: iso(s.outage.start.wall)!, fault_layer: s.outage.layer } : null,
    probes,
    problems,
    iface: s.iface,
  };
}
