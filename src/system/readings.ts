/**
 * Pure parsers for the kernel's text interfaces. Each returns null for a missing or
 * malformed reading: an absent sensor must show as absent, never as 0.
 */

/** /sys/class/thermal/thermal_zone*\/temp holds millidegrees Celsius. */
export function parseThermalMilli(text: string | null | undefined): number | null {
  if (text == null) return null;
  const s = text.trim();
  if (!/^-?\d+$/.test(s)) return null;
  const c = Number(s) / 1000;
  // Some drivers report a fixed error value (e.g. -273 °C or 0 when the sensor is off).
  if (c <= -40 || c > 150 || c === 0) return null;
  return Math.round(c * 10) / 10;
}

/** Picks the CPU zone among thermal zones by their `type` (cpu-thermal, x86_pkg_temp, soc...). */
export function pickCpuZone(zones: Array<{ type: string; temp_c: number | null }>): number | null {
  const valid = zones.filter((z) => z.temp_c !== null);
  const cpu = valid.find((z) => /cpu|soc|x86_pkg|coretemp|k10temp|bcm2835/i.test(z.type));
  return (cpu ?? valid[0])?.temp_c ?? null;
}

export interface MemInfo {
  total_bytes: number;
  available_bytes: number;
  used_pct: number;
}

/** /proc/meminfo: "used" is total minus MemAvailable (page cache is not pressure). */
export function parseMeminfo(text: string): MemInfo | null {
  const kb = (key: string) => {
    const m = new RegExp(`^${key}:\\s+(\\d+)\\s*kB`, 'm').exec(text);
    return m?.[1] ? Number(m[1]) * 1024 : null;
  };
  const total = kb('MemTotal');
  const avail = kb('MemAvailable') ?? (kb('MemFree') ?? 0) + (kb('Cached') ?? 0);
  if (!total) return null;
  return { total_bytes: total, available_bytes: avail, used_pct: round1(((total - avail) / total) * 100) };
}

/** /proc/self/io: bytes this process caused to be sent to the storage layer. */
export function parseProcIo(text: string): { write_bytes: number; read_bytes: number } | null {
  const get = (key: string) => {
    const m = new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(text);
    return m?.[1] ? Number(m[1]) : null;
  };
  const w = get('write_bytes');
  const r = get('read_bytes');
  return w === null || r === null ? null : { write_bytes: w, read_bytes: r };
}

/** /proc/loadavg: "0.52 0.40 0.33 1/123 4567". */
export function parseLoadavg(text: string): [number, number, number] | null {
  const parts = text.trim().split(/\s+/).slice(0, 3).map(Number);
  if (parts.length !== 3 || parts.some((n) => !Number.isFinite(n))) return null;
  return parts as [number, number, number];
}

/** fs.statfs result → used percent and free bytes (available to unprivileged users). */
export function diskFromStatfs(s: { bsize: number; blocks: number; bavail: number; bfree: number }): {
  total_bytes: number;
  free_bytes: number;
  used_pct: number;
} | null {
  if (!s.blocks) return null;
  const total = s.bsize * s.blocks;
  const free = s.bsize * s.bavail;
  // Same formula as df: used / (used + available), so reserved blocks count as unavailable.
  const used = s.bsize * (s.blocks - s.bfree);
  return { total_bytes: total, free_bytes: free, used_pct: round1((used / (used + free || 1)) * 100) };
}

export function round1(n: number): number {
  return Math.round(n * 10) / 10;
}
