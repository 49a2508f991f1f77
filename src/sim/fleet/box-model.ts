import type { CacheStatus, DeviceStatus, SystemStatus } from '../../status/types.js';
import type { Random } from './rng.js';

export interface SimDevice {
  id: string;
  name: string;
  kind: DeviceStatus['kind'];
  /** Why it is offline, as the device monitor would say. */
  failure: string;
}

const KIOSK_DOWN = 'no heartbeat for 120 s';

/** A hall's inventory: one or two kiosks, a printer, an access point, sometimes CCTV and a queue display. */
export function hallDevices(r: Random): SimDevice[] {
  const out: SimDevice[] = [{ id: 'adm-1', name: 'Anjungan Mandiri 1', kind: 'kiosk', failure: KIOSK_DOWN }];
  if (r() < 0.5) out.push({ id: 'adm-2', name: 'Anjungan Mandiri 2', kind: 'kiosk', failure: KIOSK_DOWN });
  out.push({ id: 'prn-1', name: 'Printer Pelayanan', kind: 'printer', failure: 'usb: device not found' });
  out.push({ id: 'ap-1', name: 'Access Point Balai', kind: 'access_point', failure: 'icmp: no reply' });
  if (r() < 0.4) out.push({ id: 'cam-1', name: 'CCTV Halaman', kind: 'camera', failure: 'http: timeout' });
  if (r() < 0.3)
    out.push({ id: 'qd-1', name: 'Layar Antrian', kind: 'queue_display', failure: 'tcp: refused' });
  return out;
}

export function initialState(d: SimDevice, wall: string): DeviceStatus {
  return {
    id: d.id,
    name: d.name,
    kind: d.kind,
    state: 'online',
    since: wall,
    reason: null,
    last_heartbeat: null,
  };
}

/** Per-box constants drawn once: the readings then follow the time of day, not the dice. */
export interface BoxTraits {
  tempBase: number;
  disk0: number;
  memBase: number;
  /** A weak power supply: the Pi reports undervoltage when the hall is busy. */
  weakSupply: boolean;
  rttScale: number;
}

export function boxTraits(r: Random): BoxTraits {
  return {
    tempBase: 44 + r() * 10,
    disk0: 18 + r() * 30,
    memBase: 30 + r() * 15,
    weakSupply: r() < 0.05,
    rttScale: 0.6 + r() * 1.4,
  };
}

/** Hour of day in WIB (UTC+7), where the halls are. */
export function wibHour(wallMs: number): number {
  return (wallMs / 3_600_000 + 7) % 24;
}

/** Opening hours of a balai desa: most kiosk use between 07:30 and 16:00 WIB. */
export function demandFactor(wallMs: number): number {
  const h = wibHour(wallMs);
  return h >= 7.5 && h < 16 ? 1 : 0.08;
}

export function systemReading(
  t: BoxTraits,
  wallMs: number,
  elapsedMs: number,
  rssMb: number | null,
): SystemStatus {
  const h = wibHour(wallMs);
  const day = Math.sin(((h - 8) / 24) * 2 * Math.PI);
  const busy = demandFactor(wallMs);
  return {
    cpu_load: Math.round((0.05 + 0.25 * busy + 0.03 * Math.abs(day)) * 100) / 100,
    temperature_c: Math.round((t.tempBase + 9 * day + 4 * busy) * 10) / 10,
    throttled: t.weakSupply && busy === 1,
    memory_used_pct: Math.round((t.memBase + 3 * busy) * 10) / 10,
    // SD cards fill slowly with logs and history.
    disk_used_pct: Math.round((t.disk0 + elapsedMs / 86_400_000 / 20) * 10) / 10,
    rss_mb: rssMb,
  };
}

export class CacheCounters {
  hits = 0;
  misses = 0;
  stale = 0;
  lastRefresh: string | null = null;

  /** A kiosk session reads a few cached forms; misses are rare once prefetched. */
  served(n: number, offline: boolean): void {
    this.hits += 3 * n;
    if (offline) this.stale += n;
    else this.misses += Math.floor(n / 8);
  }

  status(): CacheStatus {
    return {
      entries: 120 + Math.min(400, this.misses),
      bytes: (120 + Math.min(400, this.misses)) * 6_000,
      upstreams: {
        layanan: { hits: this.hits, misses: this.misses, stale: this.stale, last_refresh: this.lastRefresh },
      },
    };
  }
}
