import type { RegencyConfig } from '../config-schema.js';
import type { ReportRepo } from '../store/report-repo.js';
import type { VillageRegistry } from '../villages.js';
import {
  appliesTo,
  type Interval,
  type MaintenanceWindow,
  overlapMs,
  totalMs,
  windowsIn,
} from './maintenance.js';
import type { WibPeriod } from './period.js';
import { groupBy, pct, type ReportVillage, reportVillages, round1 } from './report-villages.js';
import { ispSla, type SlaFigures, villageSla } from './sla.js';

/** What the report needs of the config: contracts, charged layers, maintenance windows. */
export type SlaPolicy = Pick<RegencyConfig, 'sla' | 'maintenance'>;
export const NO_SLA: SlaPolicy = { sla: { contracts: [], charged_layers: ['isp'] }, maintenance: [] };

/** The gateway's fault layers, in ladder order; `unknown` holds outages without one. */
export const FAULT_LAYERS = ['lan', 'isp', 'dns', 'internet', 'regency', 'unknown'] as const;

interface Outage {
  gw: string;
  startMs: number;
  endMs: number;
  layer: string;
  ongoing: boolean;
}

export interface AvailabilityFigures {
  outages: number;
  /** Minutes down in the period outside declared maintenance, per fault layer (0 when none). */
  down_min: Record<string, number>;
  down_min_total: number;
  /** Minutes of declared maintenance in the period, taken out of the measured time. */
  maintenance_min: number;
  /** Minutes down inside declared maintenance: shown, not counted. */
  excluded_down_min: number;
  /** null when there is no data: no message at all in the period is not 100 %. */
  availability_pct: number | null;
}

export interface AvailabilityVillage extends ReportVillage, AvailabilityFigures {
  data: boolean;
  ongoing: boolean;
  /** Minutes measured: the period less its maintenance. */
  measured_min: number;
  sla: SlaFigures;
}

export interface AvailabilityGroup extends AvailabilityFigures {
  villages: number;
  with_data: number;
}

export interface AvailabilityReport {
  month: string;
  timezone: 'WIB';
  from: string;
  to: string;
  /** Minutes the availability is measured over: the month, or up to now for the current one. */
  minutes: number;
  layers: string[];
  /** How the numbers were made, in words, for whoever reads the report without the code. */
  method: string;
  /** Fault layers charged to the ISP, and the contracts (SLO per ISP per month). */
  sla: { charged_layers: string[]; contracts: Array<{ isp: string; slo_pct: number }> };
  /** Declared maintenance occurring in the period (WIB-configured, listed in UTC ISO). */
  maintenance: Array<{
    name: string;
    isp: string | null;
    kecamatan: string | null;
    village: string | null;
    start: string;
    end: string;
    minutes: number;
  }>;
  villages: AvailabilityVillage[];
  kecamatan: Array<AvailabilityGroup & { kecamatan: string | null }>;
  isp: Array<AvailabilityGroup & { isp: string | null; sla: SlaFigures & { breaches: string[] } }>;
  total: AvailabilityGroup;
}

export const METHOD =
  'Outages as each gateway measured them (start, end, fault layer), clipped to the WIB month; ' +
  'overlapping outages counted once. Declared maintenance is taken out of the measured time, ' +
  'and downtime inside it is shown apart, not counted. A village with no message in the period ' +
  'has no availability (not 100 %). The SLA figure counts only the fault layers charged to the ' +
  'ISP; the SLO is met when it is at least the contract percentage.';

/**
 * Monthly availability per village from the gateways' own `outage` messages (start, end,
 * fault layer as the gateway measured them), clipped to the WIB month, plus an outage still
 * running (the village's retained link). The same outage reported twice (same village and
 * start: a replay with a new id after a power cut) counts once, with its latest end.
 */
export async function availabilityReport(
  repo: ReportRepo,
  registry: VillageRegistry,
  period: WibPeriod,
  nowMs: number,
  policy: SlaPolicy = NO_SLA,
): Promise<AvailabilityReport> {
  const toMs = Math.max(period.fromMs, Math.min(period.toMs, nowMs));
  const outages = await collectOutages(repo, period, toMs);
  const perVillageMsgs = await repo.messagesPerVillage(period.firstDay, period.lastDay);
  const byGw = new Map<string, Outage[]>();
  for (const o of outages) byGw.set(o.gw, [...(byGw.get(o.gw) ?? []), o]);
  const layers = [...FAULT_LAYERS, ...new Set(outages.map((o) => o.layer).filter((l) => !isKnownLayer(l)))];
  const periodMin = (toMs - period.fromMs) / 60_000;
  const windows = windowsIn(policy.maintenance, period.fromMs, toMs);
  const charged = new Set<string>(policy.sla.charged_layers);
  const villages = reportVillages(registry, [...perVillageMsgs.keys(), ...byGw.keys()]).map((v) => {
    const own = byGw.get(v.code) ?? [];
    const data = (perVillageMsgs.get(v.code) ?? 0) > 0 || own.length > 0;
    const maint = windows.filter((w) => appliesTo(w, v)).map((w): Interval => [w.startMs, w.endMs]);
    const outside = (list: readonly Outage[]) => {
      const iv = list.map((o): Interval => [o.startMs, o.endMs]);
      return (totalMs(iv) - overlapMs(iv, maint)) / 60_000;
    };
    const down = Object.fromEntries(layers.map((l) => [l, outside(own.filter((o) => o.layer === l))]));
    const totalMin = outside(own);
    const measured = periodMin - totalMs(maint) / 60_000;
    const chargedMin = outside(own.filter((o) => charged.has(o.layer)));
    return {
      ...v,
      data,
      ongoing: own.some((o) => o.ongoing),
      outages: own.length,
      down_min: Object.fromEntries(Object.entries(down).map(([k, n]) => [k, round1(n)])),
      down_min_total: round1(totalMin),
      maintenance_min: round1(periodMin - measured),
      excluded_down_min: round1(unionMs(own) / 60_000 - totalMin),
      measured_min: round1(measured),
      availability_pct: data && measured > 0 ? pct(totalMin, measured) : null,
      sla: villageSla(policy.sla.contracts, v.isp, data, chargedMin, measured),
    };
  });
  const sub = (vs: AvailabilityVillage[]) => subtotal(vs, layers);
  return {
    month: period.label,
    timezone: 'WIB',
    from: new Date(period.fromMs).toISOString(),
    to: new Date(toMs).toISOString(),
    minutes: round1(periodMin),
    method: METHOD,
    sla: { charged_layers: [...policy.sla.charged_layers], contracts: [...policy.sla.contracts] },
    maintenance: windows.map(listed),
    layers,
    villages,
    kecamatan: groupBy(villages, (v) => v.kecamatan).map(([kecamatan, vs]) => ({ kecamatan, ...sub(vs) })),
    isp: groupBy(villages, (v) => v.isp).map(([isp, vs]) => ({
      isp,
      ...sub(vs),
      sla: ispSla(policy.sla.contracts, isp, vs),
    })),
    total: sub(villages),
  };
}

function listed(w: MaintenanceWindow) {
  return {
    name: w.name,
    isp: w.isp,
    kecamatan: w.kecamatan,
    village: w.village,
    start: new Date(w.startMs).toISOString(),
    end: new Date(w.endMs).toISOString(),
    minutes: round1((w.endMs - w.startMs) / 60_000),
  };
}

async function collectOutages(repo: ReportRepo, period: WibPeriod, toMs: number): Promise<Outage[]> {
  const byKey = new Map<string, Outage>();
  const add = (o: Outage, key: string) => {
    const had = byKey.get(key);
    if (!had || o.endMs > had.endMs) byKey.set(key, o);
  };
  for (const row of await repo.messagesSince('outage', period.firstDay)) {
    const d = JSON.parse(row.data) as { start: string; end: string; fault_layer: string | null };
    const clipped = clip(Date.parse(d.start), Date.parse(d.end), period.fromMs, toMs);
    if (clipped)
      add(
        { gw: row.gw, ...clipped, layer: d.fault_layer ?? 'unknown', ongoing: false },
        `${row.gw}|${d.start}`,
      );
  }
  for (const row of await repo.links()) {
    const o = (
      JSON.parse(row.link ?? 'null') as { outage?: { start: string; fault_layer: string | null } | null }
    )?.outage;
    if (!o || byKey.has(`${row.gw}|${o.start}`)) continue;
    const clipped = clip(Date.parse(o.start), toMs, period.fromMs, toMs);
    if (clipped)
      add(
        { gw: row.gw, ...clipped, layer: o.fault_layer ?? 'unknown', ongoing: true },
        `${row.gw}|${o.start}`,
      );
  }
  return [...byKey.values()].sort((a, b) => a.startMs - b.startMs);
}

function clip(
  start: number,
  end: number,
  from: number,
  to: number,
): { startMs: number; endMs: number } | null {
  if (!Number.isFinite(start) || !Number.isFinite(end)) return null;
  const s = Math.max(start, from);
  const e = Math.min(end, to);
  return e > s ? { startMs: s, endMs: e } : null;
}

/** Time covered by at least one outage (overlapping outages are not counted twice). */
function unionMs(outages: readonly Outage[]): number {
  let total = 0;
  let curS = -1;
  let curE = -1;
  for (const o of [...outages].sort((a, b) => a.startMs - b.startMs)) {
    if (o.startMs > curE) {
      total += curE - curS;
      curS = o.startMs;
      curE = o.endMs;
    } else curE = Math.max(curE, o.endMs);
  }
  return total + (curE - curS);
}

function isKnownLayer(l: string): boolean {
  return (FAULT_LAYERS as readonly string[]).includes(l);
}

/** Sums over villages; availability over the measured minutes of the villages with data only. */
function subtotal(vs: readonly AvailabilityVillage[], layers: readonly string[]): AvailabilityGroup {
  const withData = vs.filter((v) => v.data);
  const measured = withData.reduce((n, v) => n + v.measured_min, 0);
  const down = Object.fromEntries(
    layers.map((l) => [l, round1(vs.reduce((n, v) => n + (v.down_min[l] ?? 0), 0))]),
  );
  const total = vs.reduce((n, v) => n + v.down_min_total, 0);
  return {
    villages: vs.length,
    with_data: withData.length,
    outages: vs.reduce((n, v) => n + v.outages, 0),
    down_min: down,
    down_min_total: round1(total),
    maintenance_min: round1(vs.reduce((n, v) => n + v.maintenance_min, 0)),
    excluded_down_min: round1(vs.reduce((n, v) => n + v.excluded_down_min, 0)),
    availability_pct: withData.length > 0 && measured > 0 ? pct(total, measured) : null,
  };
}
