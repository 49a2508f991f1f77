/**
 * Western Indonesia Time (Asia/Jakarta): UTC+7 all year, no daylight saving, so a fixed
 * offset is exact and needs no time-zone database on the box. Everything people read
 * (CLI, page, file names) and every local calendar day is in WIB (SPEC). The technician
 * page imports the offset from here too (its bundler reads this file).
 */
export const WIB_OFFSET_MS = 7 * 3600_000;

/** Local (WIB) calendar day of a wall time, e.g. "2026-11-28". */
export function wibDay(wallMs: number): string {
  return new Date(wallMs + WIB_OFFSET_MS).toISOString().slice(0, 10);
}

/** ISO time → "2026-11-28 12:04:05 WIB" (24-hour); "—" when absent or unreadable. */
export function wibTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return '—';
  return `${new Date(t + WIB_OFFSET_MS).toISOString().replace('T', ' ').slice(0, 19)} WIB`;
}

/** Wall time → "202611281204" (WIB, to the minute): for file names. */
export function wibStamp(wallMs: number): string {
  return new Date(wallMs + WIB_OFFSET_MS).toISOString().slice(0, 16).replace(/[-:T]/g, '');
}
