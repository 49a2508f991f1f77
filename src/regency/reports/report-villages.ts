import type { VillageRegistry } from '../villages.js';

export interface ReportVillage {
  code: string;
  name: string | null;
  kecamatan: string | null;
  isp: string | null;
  /** false: a gateway id that reported but is not in the registry ("unknown village"). */
  known: boolean;
}

/** Every registry village in registry order, then unknown reporters sorted by code. */
export function reportVillages(registry: VillageRegistry, reporters: Iterable<string>): ReportVillage[] {
  const out: ReportVillage[] = registry.all().map((v) => ({ ...v, known: true }));
  const unknown = [...new Set(reporters)].filter((gw) => !registry.get(gw)).sort();
  for (const code of unknown) out.push({ code, name: null, kecamatan: null, isp: null, known: false });
  return out;
}

/** Groups in first-seen order (registry order), keyed by a possibly null label. */
export function groupBy<T>(items: readonly T[], key: (t: T) => string | null): Array<[string | null, T[]]> {
  const groups = new Map<string | null, T[]>();
  for (const it of items) {
    const k = key(it);
    const g = groups.get(k);
    if (g) g.push(it);
    else groups.set(k, [it]);
  }
  return [...groups.entries()];
}

/** Rounded to one decimal (minutes, percentages): what a report shows, without float noise. */
export function round1(n: number): number {
  return Math.round(n * 10) / 10;
}

/** Availability in % (two decimals) of a period with this many minutes down. */
export function pct(downMin: number, periodMin: number): number {
  return Math.round(10_000 * (1 - Math.min(downMin, periodMin) / periodMin)) / 100;
}
