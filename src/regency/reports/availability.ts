import type { ReportRepo } from '../store/report-repo.js';
import type { VillageRegistry } from '../villages.js';
import type { WibPeriod } from './period.js';
import { groupBy, type ReportVillage, reportVillages, round1 } from './report-villages.js';

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
  /** Minutes down in the period, per fault layer (every layer listed, 0 when none). */
  down_min: Record<string, number>;
  down_min_total: number;
  /** null when there is no data: no message at all in the period is not 100 %. */
  availability_pct: number | null;
}

export interface AvailabilityVillage extends ReportVillage, AvailabilityFigures {
  data: boolean;
  ongoing: boolean;
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
  villages: AvailabilityVillage[];
  kecamatan: Array<AvailabilityGroup & { kecamatan: string | null }>;
  isp: Array<AvailabilityGroup & { isp: string | null }>;
  total: AvailabilityGroup;
}

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
): Promise<AvailabilityReport> {
  const toMs = Math.max(period.fromMs, Math.min(period.toMs, nowMs));
  const outages = await collectOutages(repo, period, toMs);
  const perVillageMsgs = await repo.messagesPerVillage(period.firstDay, period.lastDay);
  const byGw = new Map<string, Outage[]>();
  for (const o of outages) byGw.set(o.gw, [...(byGw.get(o.gw) ?? []), o]);
  const layers = [...FAULT_LAYERS, ...new Set(outages.map((o) => o.layer).filter((l) => !isKnownLayer(l)))];
  const periodMin = (toMs - period.fromMs) / 60_000;
  const villages = reportVillages(registry, [...perVillageMsgs.keys(), ...byGw.keys()]).map((v) => {
    const own = byGw.get(v.code) ?? [];
    const data = (perVillageMsgs.get(v.code) ?? 0) > 0 || own.length > 0;
    const down = Object.fromEntries(layers.map((l) => [l, 0]));
    for (const o of own) down[o.layer] = (down[o.layer] ?? 0) + (o.endMs - o.startMs) / 60_000;
    const totalMin = unionMs(own) / 60_000;
    return {
      ...v,
      data,
      ongoing: own.some((o) => o.ongoing),
      outages: own.length,
      down_min: Object.fromEntries(Object.entries(down).map(([k, n]) => [k, round1(n)])),
      down_min_total: round1(totalMin),
      availability_pct: data && periodMin > 0 ? pct(totalMin, periodMin) : null,
    };
  });
  const sub = (vs: AvailabilityVillage[]) => subtotal(vs, layers, periodMin);
  return {
    month: period.label,
    timezone: 'WIB',
    from: new Date(period.fromMs).toISOString(),
    to: new Date(toMs).toISOString(),
    minutes: round1(periodMin),
    layers,
    villages,
    kecamatan: groupBy(villages, (v) => v.kecamatan).map(([kecamatan, vs]) => ({ kecamatan, ...sub(vs) })),
    isp: groupBy(villages, (v) => v.isp).map(([isp, vs]) => ({ isp, ...sub(vs) })),
    total: sub(villages),
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

function pct(downMin: number, periodMin: number): number {
  return Math.round(10_000 * (1 - Math.min(downMin, periodMin) / periodMin)) / 100;
}

function isKnownLayer(l: string): boolean {
  return (FAULT_LAYERS as readonly string[]).includes(l);
}

/** Sums over villages; availability over the villages with data only. */
function subtotal(
  vs: readonly AvailabilityVillage[],
  layers: readonly string[],
  periodMin: number,
): AvailabilityGroup {
  const withData = vs.filter((v) => v.data);
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
    availability_pct: withData.length > 0 && periodMin > 0 ? pct(total, withData.length * periodMin) : null,
  };
}
