// The offset comes from the daemon's own module: the page bundler (esbuild) reads TypeScript.
import { WIB_OFFSET_MS } from '../../../core/wib.js';
import { t } from './i18n.js';

/** ISO or epoch ms → "28-11-2026 14:05:09" in WIB (UTC+7), 24-hour, whatever the phone's zone. */
export function wib(value, withDate = true) {
  if (value === null || value === undefined || value === '') return '—';
  const ms = typeof value === 'number' ? value : Date.parse(value);
  if (Number.isNaN(ms)) return '—';
  const d = new Date(ms + WIB_OFFSET_MS);
  const p = (n) => String(n).padStart(2, '0');
  const time = `${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`;
  if (!withDate) return `${time} WIB`;
  return `${p(d.getUTCDate())}-${p(d.getUTCMonth() + 1)}-${d.getUTCFullYear()} ${time} WIB`;
}

/** Seconds → "2 h 3 j 4 m" style, two largest units. */
export function duration(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return '—';
  let s = Math.max(0, Math.round(seconds));
  const parts = [];
  const units = [
    [86400, 'unit.d'],
    [3600, 'unit.h'],
    [60, 'unit.m'],
    [1, 'unit.s'],
  ];
  for (const [size, key] of units) {
    if (s >= size || (size === 1 && parts.length === 0)) {
      parts.push(`${Math.floor(s / size)} ${t(key)}`);
      s %= size;
    }
    if (parts.length === 2) break;
  }
  return parts.join(' ');
}

export function bytes(n) {
  if (n === null || n === undefined) return '—';
  if (n < 1024) return `${n} B`;
  if (n < 1048576) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1048576).toFixed(1)} MiB`;
}

export function num(v, unit = '', digits = 0) {
  return v === null || v === undefined ? '—' : `${Number(v).toFixed(digits)}${unit}`;
}
