import { GwError } from '../../core/errors.js';
import { WIB_OFFSET_MS, wibDay } from '../../core/wib.js';

/** A calendar month or day in WIB, as wall-time bounds [fromMs, toMs) and its WIB days. */
export interface WibPeriod {
  label: string;
  fromMs: number;
  toMs: number;
  firstDay: string;
  lastDay: string;
}

/**
 * `YYYY-MM` → that month in WIB: reports are read by people in Banyuwangi, so a month starts
 * at 00:00 WIB on the 1st (17:00 UTC the day before), never at midnight UTC.
 */
export function wibMonth(month: unknown): WibPeriod {
  const m = typeof month === 'string' ? /^(\d{4})-(0[1-9]|1[0-2])$/.exec(month) : null;
  if (!m) throw new GwError('GW_ERR_VALIDATION', 'month must be YYYY-MM');
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const fromMs = Date.UTC(y, mo - 1, 1) - WIB_OFFSET_MS;
  const toMs = Date.UTC(y, mo, 1) - WIB_OFFSET_MS;
  return { label: m[0], fromMs, toMs, firstDay: wibDay(fromMs), lastDay: wibDay(toMs - 1) };
}

/** `YYYY-MM-DD` → that WIB day. */
export function wibDayPeriod(day: unknown): WibPeriod {
  const m = typeof day === 'string' ? /^(\d{4})-(\d{2})-(\d{2})$/.exec(day) : null;
  const utc = m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : Number.NaN;
  if (!m || Number.isNaN(utc) || new Date(utc).toISOString().slice(0, 10) !== m[0])
    throw new GwError('GW_ERR_VALIDATION', 'day must be a date YYYY-MM-DD');
  const fromMs = utc - WIB_OFFSET_MS;
  return { label: m[0], fromMs, toMs: fromMs + 86_400_000, firstDay: m[0], lastDay: m[0] };
}

/** `format=csv` or JSON (absent / `json`); anything else is refused rather than guessed. */
export function wantsCsv(format: unknown): boolean {
  if (format === undefined || format === 'json') return false;
  if (format === 'csv') return true;
  throw new GwError('GW_ERR_VALIDATION', 'format must be json or csv');
}
