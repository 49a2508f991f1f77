import { GwError } from '../../core/errors.js';
import type { SlaPolicy } from '../reports/availability.js';
import { toCsv } from '../reports/csv.js';
import { appliesTo, windowsIn } from '../reports/maintenance.js';
import type { IncidentRepo } from '../store/incident-repo.js';
import type { VillageRegistry } from '../villages.js';
import { deriveIncidents, sortSamples } from './derive.js';
import { type FleetIncident, groupIncidents, measured, type VillageIncident } from './group.js';

/** The default window of `GET /api/v1/incidents` and the longest one asked at once. */
export const DEFAULT_DAYS = 7;
export const MAX_DAYS = 92;
/** Samples read before `from`: an incident open at `from` started earlier. */
const LOOKBACK_MS = 86_400_000;

export interface IncidentRow {
  code: string;
  name: string | null;
  kecamatan: string | null;
  isp: string | null;
  layer: string;
  start: string;
  end: string | null;
  duration_s: number;
  state: 'open' | 'closed';
  interrupted: boolean;
  evidence: { messages: number; probes: number; seq_gaps: number; data_gaps: number; unsynced: number };
  seq_range: [number, number];
}

export interface IncidentQuery {
  fromMs: number;
  toMs: number;
  nowMs: number;
  gapMs: number;
  village?: string;
  layer?: string;
  /** Maintenance windows and the layers charged to the ISP (for grouped incidents). */
  policy?: SlaPolicy;
}

/**
 * Incidents overlapping [from, to] for one village or all that reported then, newest first.
 * Derived on read from the stored history, so a repaired gap or a late replay changes the
 * answer the next time it is asked (the evidence is never frozen before it is complete).
 */
export async function incidentReport(repo: IncidentRepo, registry: VillageRegistry, q: IncidentQuery) {
  if (q.toMs - q.fromMs > MAX_DAYS * 86_400_000)
    throw new GwError('GW_ERR_VALIDATION', `at most ${MAX_DAYS} days at once`);
  const gws = q.village ? [q.village] : await repo.villagesWithHealth(q.fromMs - LOOKBACK_MS, q.toMs);
  const rows: IncidentRow[] = [];
  const members: ReturnType<typeof measured>[] = [];
  for (const gw of gws) {
    if (!q.village && !(await repo.mayHaveIncidents(gw, q.fromMs - LOOKBACK_MS, q.toMs + LOOKBACK_MS)))
      continue;
    const samples = sortSamples(await repo.samples(gw, q.fromMs - LOOKBACK_MS, q.toMs + LOOKBACK_MS));
    if (samples.length === 0) continue;
    const v = registry.get(gw);
    let ledger: Awaited<ReturnType<IncidentRepo['outages']>> | undefined;
    for (const inc of deriveIncidents(samples, await repo.seqGaps(gw), { gapMs: q.gapMs, nowMs: q.nowMs })) {
      const end = inc.endMs ?? q.nowMs;
      if (inc.startMs > q.toMs || end < q.fromMs) continue;
      if (q.layer && inc.layer !== q.layer) continue;
      ledger ??= await repo.outages(gw, q.fromMs - LOOKBACK_MS, q.toMs + LOOKBACK_MS);
      const own: VillageIncident = {
        code: gw,
        name: v?.name ?? null,
        kecamatan: v?.kecamatan ?? null,
        isp: v?.isp ?? null,
        layer: inc.layer,
        startMs: inc.startMs,
        endMs: inc.endMs,
      };
      members.push(measured(own, ledger, q.nowMs));
      rows.push({
        code: gw,
        name: v?.name ?? null,
        kecamatan: v?.kecamatan ?? null,
        isp: v?.isp ?? null,
        layer: inc.layer,
        start: new Date(inc.startMs).toISOString(),
        end: inc.endMs === null ? null : new Date(inc.endMs).toISOString(),
        duration_s: Math.round((end - inc.startMs) / 1000),
        state: inc.open ? 'open' : 'closed',
        interrupted: inc.interrupted,
        evidence: inc.evidence,
        seq_range: [inc.seqLo, inc.seqHi],
      });
    }
  }
  rows.sort((a, b) => Date.parse(b.start) - Date.parse(a.start) || a.code.localeCompare(b.code));
  const windows = windowsIn(q.policy?.maintenance ?? [], q.fromMs - LOOKBACK_MS, q.toMs + LOOKBACK_MS).map(
    (w) => ({ ...w, applies: (v: Parameters<typeof appliesTo>[1]) => appliesTo(w, v) }),
  );
  const groups: FleetIncident[] = groupIncidents(
    members,
    windows,
    q.policy?.sla.charged_layers ?? ['isp'],
    q.nowMs,
  ).reverse();
  return {
    from: new Date(q.fromMs).toISOString(),
    to: new Date(q.toMs).toISOString(),
    gap_s: q.gapMs / 1000,
    /** Outages of several villages that share a cause, grouped (newest first); see group.ts. */
    groups,
    incidents: rows,
  };
}

export function incidentsCsv(r: { incidents: IncidentRow[] }): string {
  return toCsv(
    [
      'code',
      'name',
      'kecamatan',
      'isp',
      'layer',
      'start',
      'end',
      'duration_s',
      'state',
      'interrupted',
      'probes',
      'messages',
      'seq_gaps',
      'data_gaps',
      'unsynced',
    ],
    r.incidents.map((i) => [
      i.code,
      i.name,
      i.kecamatan,
      i.isp,
      i.layer,
      i.start,
      i.end,
      i.duration_s,
      i.state,
      i.interrupted,
      i.evidence.probes,
      i.evidence.messages,
      i.evidence.seq_gaps,
      i.evidence.data_gaps,
      i.evidence.unsynced,
    ]),
  );
}
