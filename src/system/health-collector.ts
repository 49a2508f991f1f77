import { stat, statfs } from 'node:fs/promises';
import os from 'node:os';
import type { Clock } from '../core/clock.js';
import { diskFromStatfs, parseLoadavg, parseMeminfo, parseProcIo, round1 } from './readings.js';
import {
  detectThrottlingSource,
  readText,
  readThermalZones,
  readThrottling,
  type ThrottlingSource,
} from './sensors.js';

export interface HealthReading {
  cpu_load: number | null;
  cpu_cores: number;
  temperature_c: number | null;
  throttled: boolean | null;
  throttled_flags: string[] | null;
  throttled_raw: string | null;
  undervoltage_now: boolean | null;
  memory_used_pct: number | null;
  disk_used_pct: number | null;
  disk_free_mb: number | null;
  rss_mb: number;
  process_cpu_pct: number | null;
  uptime_s: number;
  process_uptime_s: number;
  db_mb: number | null;
  wal_mb: number | null;
  /** /proc/self/io write_bytes: null where the kernel does not expose it. */
  io_write_bytes: number | null;
}

const MB = 1024 * 1024;

/**
 * Reads the box's health from the kernel's files and (once, as a fallback) systeminformation.
 * Runs on the scheduler at a modest interval; nothing here is on a request path.
 */
export class HealthCollector {
  private readonly dataDir: string;
  private readonly dbPath: string;
  private readonly clock: Clock;
  private throttling: ThrottlingSource = null;
  /** Whether systeminformation found a temperature where the thermal zones had none. */
  private siTemperature: boolean | undefined;
  private lastCpu: { usage: NodeJS.CpuUsage; mono: number } | undefined;

  constructor(deps: { dataDir: string; dbPath: string; clock: Clock }) {
    this.dataDir = deps.dataDir;
    this.dbPath = deps.dbPath;
    this.clock = deps.clock;
  }

  async start(): Promise<void> {
    this.throttling = await detectThrottlingSource();
    this.lastCpu = { usage: process.cpuUsage(), mono: this.clock.monoMs() };
  }

  async collect(signal?: AbortSignal): Promise<HealthReading> {
    const [load, mem, io, temp, thr, disk, db, wal] = await Promise.all([
      readText('/proc/loadavg').then((t) => (t ? parseLoadavg(t) : null)),
      readText('/proc/meminfo').then((t) => (t ? parseMeminfo(t) : null)),
      readText('/proc/self/io').then((t) => (t ? parseProcIo(t) : null)),
      this.temperature(),
      readThrottling(this.throttling, signal),
      statfs(this.dataDir).then(diskFromStatfs, () => null),
      fileMb(this.dbPath),
      fileMb(`${this.dbPath}-wal`),
    ]);
    const memory = mem ? mem.used_pct : fallbackMemory();
    return {
      cpu_load: load ? load[0] : null,
      cpu_cores: os.availableParallelism(),
      temperature_c: temp,
      throttled: thr ? thr.active : null,
      throttled_flags: thr ? thr.words : null,
      throttled_raw: thr ? `0x${thr.raw.toString(16)}` : null,
      undervoltage_now: thr ? thr.undervoltage_now : null,
      memory_used_pct: memory,
      disk_used_pct: disk ? disk.used_pct : null,
      disk_free_mb: disk ? round1(disk.free_bytes / MB) : null,
      rss_mb: round1(process.memoryUsage.rss() / MB),
      process_cpu_pct: this.cpuPct(),
      uptime_s: Math.round(os.uptime()),
      process_uptime_s: Math.round(process.uptime()),
      db_mb: db,
      wal_mb: wal,
      io_write_bytes: io ? io.write_bytes : null,
    };
  }

  private async temperature(): Promise<number | null> {
    const zone = await readThermalZones();
    if (zone !== null || this.siTemperature === false) return zone;
    // systeminformation may spawn `sensors` etc.; ask it once and remember if it has nothing.
    try {
      // Loaded lazily: the module is large and most boxes (Pi) never need it.
      const si = (await import('systeminformation')).default;
      const t = await si.cpuTemperature();
      const c = typeof t.main === 'number' && t.main > 0 ? round1(t.main) : null;
      this.siTemperature = c !== null;
      return c;
    } catch {
      this.siTemperature = false;
      return null;
    }
  }

  private cpuPct(): number | null {
    const now = { usage: process.cpuUsage(), mono: this.clock.monoMs() };
    const prev = this.lastCpu;
    this.lastCpu = now;
    if (!prev || now.mono <= prev.mono) return null;
    const usedUs = now.usage.user - prev.usage.user + (now.usage.system - prev.usage.system);
    return Math.round((usedUs / 1000 / (now.mono - prev.mono)) * 1000) / 10;
  }
}

async function fileMb(path: string): Promise<number | null> {
  try {
    return Math.round(((await stat(path)).size / MB) * 100) / 100;
  } catch {
    return null;
  }
}

function fallbackMemory(): number | null {
  const total = os.totalmem();
  return total ? round1(((total - os.freemem()) / total) * 100) : null;
}
