import { wibDay } from '../../core/wib.js';
import type { ReportRepo } from '../store/report-repo.js';
import type { VillageRegistry } from '../villages.js';
import type { WibPeriod } from './period.js';
import { groupBy, type ReportVillage, reportVillages } from './report-villages.js';

export interface UsageCounts {
  /** Events per service (every service of the report listed, 0 when none). */
  by_service: Record<string, number>;
  total: number;
}

export interface UsageReport {
  month: string;
  timezone: 'WIB';
  services: string[];
  villages: Array<ReportVillage & UsageCounts & { data: boolean }>;
  kecamatan: Array<UsageCounts & { kecamatan: string | null; villages: number }>;
  total: UsageCounts;
}

interface UsageEvent {
  id: string;
  service: string;
  at?: string;
}

/**
 * Monthly service use per village and kecamatan from the `usage` messages. An event counts
 * once per village by its own id (a batch replayed after a cut, or re-sent with a new
 * envelope id, adds nothing) and in the WIB month of its `at`, else of its envelope's time.
 */
export async function usageReport(
  repo: ReportRepo,
  registry: VillageRegistry,
  period: WibPeriod,
): Promise<UsageReport> {
  const seen = new Set<string>();
  const counts = new Map<string, Map<string, number>>();
  const services = new Set<string>();
  // An event may be published the day before its `at` only on a box whose clock is wrong:
  // reading one day earlier costs little and misses none of those.
  const fromDay = wibDay(period.fromMs - 86_400_000);
  for (const row of await repo.messagesSince('usage', fromDay)) {
    const data = JSON.parse(row.data) as { events: UsageEvent[] };
    for (const e of data.events) {
      const at = Date.parse(e.at ?? row.ts);
      if (!(at >= period.fromMs && at < period.toMs)) continue;
      const key = `${row.gw}|${e.id}`;
      if (seen.has(key)) continue;
      seen.add(key);
      services.add(e.service);
      const m = counts.get(row.gw) ?? new Map<string, number>();
      m.set(e.service, (m.get(e.service) ?? 0) + 1);
      counts.set(row.gw, m);
    }
  }
  const svc = [...services].sort();
  const tally = (maps: ReadonlyArray<Map<string, number> | undefined>): UsageCounts => {
    const by = Object.fromEntries(svc.map((s) => [s, 0]));
    for (const m of maps) for (const [s, n] of m ?? []) by[s] = (by[s] ?? 0) + n;
    return { by_service: by, total: Object.values(by).reduce((a, b) => a + b, 0) };
  };
  const villages = reportVillages(registry, counts.keys()).map((v) => ({
    ...v,
    data: counts.has(v.code),
    ...tally([counts.get(v.code)]),
  }));
  return {
    month: period.label,
    timezone: 'WIB',
    services: svc,
    villages,
    kecamatan: groupBy(villages, (v) => v.kecamatan).map(([kecamatan, vs]) => ({
      kecamatan,
      villages: vs.length,
      ...tally(vs.map((v) => counts.get(v.code))),
    })),
    total: tally([...counts.values()]),
  };
}
