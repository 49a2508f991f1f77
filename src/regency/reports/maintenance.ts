import { WIB_OFFSET_MS } from '../../core/wib.js';
import type { RegencyConfig } from '../config-schema.js';

type WindowConfig = RegencyConfig['maintenance'][number];
const DAY_MS = 86_400_000;
const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

/** One occurrence of a declared maintenance window, clipped to the period asked about. */
export interface MaintenanceWindow {
  name: string;
  isp: string | null;
  kecamatan: string | null;
  village: string | null;
  startMs: number;
  endMs: number;
}

export type Interval = readonly [number, number];

/** "YYYY-MM-DD HH:MM" (or with T) read in WIB → epoch ms; NaN when not a real date and time. */
export function wibStampMs(s: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})$/.exec(s);
  if (!m) return Number.NaN;
  const [y, mo, d, h, mi] = m.slice(1).map(Number) as [number, number, number, number, number];
  const utc = Date.UTC(y, mo - 1, d, h, mi);
  const back = new Date(utc);
  if (back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d || h > 23) return Number.NaN;
  return utc - WIB_OFFSET_MS;
}

function clockMs(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number) as [number, number];
  return (h * 60 + m) * 60_000;
}

/** Every occurrence of the configured windows overlapping [fromMs, toMs), clipped to it. */
export function windowsIn(
  config: readonly WindowConfig[],
  fromMs: number,
  toMs: number,
): MaintenanceWindow[] {
  const out: MaintenanceWindow[] = [];
  for (const w of config) {
    const scope = {
      name: w.name,
      isp: w.isp ?? null,
      kecamatan: w.kecamatan ?? null,
      village: w.village ?? null,
    };
    const add = (s: number, e: number) => {
      const cs = Math.max(s, fromMs);
      const ce = Math.min(e, toMs);
      if (ce > cs) out.push({ ...scope, startMs: cs, endMs: ce });
    };
    if (w.start !== undefined && w.end !== undefined) add(wibStampMs(w.start), wibStampMs(w.end));
    else if (w.weekly) {
      const weekly = w.weekly;
      // WIB midnights from the day before `from` (a window may start before the period).
      const first = Math.floor((fromMs + WIB_OFFSET_MS) / DAY_MS) * DAY_MS - WIB_OFFSET_MS - DAY_MS;
      for (let day = first; day < toMs; day += DAY_MS) {
        const weekday = WEEKDAYS[new Date(day + WIB_OFFSET_MS).getUTCDay()] as string;
        if ((weekly.days as readonly string[]).includes(weekday))
          add(day + clockMs(weekly.from), day + clockMs(weekly.to));
      }
    }
  }
  return out.sort((a, b) => a.startMs - b.startMs);
}

/** A window applies to a village when every scope key it names matches. */
export function appliesTo(
  w: MaintenanceWindow,
  v: { code: string; isp: string | null; kecamatan: string | null },
): boolean {
  return (
    (w.village === null || w.village === v.code) &&
    (w.isp === null || w.isp === v.isp) &&
    (w.kecamatan === null || w.kecamatan === v.kecamatan)
  );
}

/** Sorted, merged intervals (overlaps counted once). */
export function union(list: readonly Interval[]): Interval[] {
  const out: Array<[number, number]> = [];
  for (const [s, e] of [...list].sort((a, b) => a[0] - b[0])) {
    const last = out[out.length - 1];
    if (last && s <= last[1]) last[1] = Math.max(last[1], e);
    else if (e > s) out.push([s, e]);
  }
  return out;
}

export function totalMs(list: readonly Interval[]): number {
  return union(list).reduce((n, [s, e]) => n + (e - s), 0);
}

/** Time covered by both a and b. */
export function overlapMs(a: readonly Interval[], b: readonly Interval[]): number {
  const ua = union(a);
  const ub = union(b);
  let n = 0;
  for (const [as, ae] of ua)
    for (const [bs, be] of ub) {
      const s = Math.max(as, bs);
      const e = Math.min(ae, be);
      if (e > s) n += e - s;
    }
  return n;
}
