// The offset comes from the collector's own module: the page bundler (esbuild) reads TypeScript.
import { WIB_OFFSET_MS } from '../../../core/wib.js';
import { t } from './i18n.js';

const p = (n) => String(n).padStart(2, '0');

/** ISO or epoch ms → "28-11-2026 14:05" in WIB (UTC+7), whatever the browser's zone. */
export function wib(value, withDate = true) {
  if (value === null || value === undefined || value === '') return '—';
  const ms = typeof value === 'number' ? value : Date.parse(value);
  if (Number.isNaN(ms)) return '—';
  const d = new Date(ms + WIB_OFFSET_MS);
  const time = `${p(d.getUTCHours())}:${p(d.getUTCMinutes())}`;
  if (!withDate) return `${time} WIB`;
  return `${p(d.getUTCDate())}-${p(d.getUTCMonth() + 1)}-${d.getUTCFullYear()} ${time} WIB`;
}

/** Short: the time today, else the date and time. */
export function wibShort(value, nowMs = Date.now()) {
  const ms = typeof value === 'number' ? value : Date.parse(value);
  if (Number.isNaN(ms)) return '—';
  const day = (x) => new Date(x + WIB_OFFSET_MS).toISOString().slice(0, 10);
  if (day(ms) === day(nowMs)) return wib(ms, false);
  const d = new Date(ms + WIB_OFFSET_MS);
  return `${p(d.getUTCDate())}-${p(d.getUTCMonth() + 1)} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}`;
}

/** This month in WIB, "YYYY-MM". */
export function wibMonth(nowMs = Date.now()) {
  return new Date(nowMs + WIB_OFFSET_MS).toISOString().slice(0, 7);
}

/** Seconds → two largest units, e.g. "2 j 3 m". */
export function duration(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return '—';
  let s = Math.max(0, Math.round(seconds));
  const parts = [];
  for (const [size, key] of [
    [86400, 'unit.d'],
    [3600, 'unit.h'],
    [60, 'unit.m'],
    [1, 'unit.s'],
  ]) {
    if (s >= size || (size === 1 && parts.length === 0)) {
      parts.push(`${Math.floor(s / size)} ${t(key)}`);
      s %= size;
    }
    if (parts.length === 2) break;
  }
  return parts.join(' ');
}

export function num(v, unit = '', digits = 0) {
  return v === null || v === undefined ? '—' : `${Number(v).toFixed(digits)}${unit}`;
}
