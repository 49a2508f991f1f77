import type { AlertSink } from './alert-sink.js';
import type { DiskState } from './disk-guard.js';
import type { HealthReading } from './health-collector.js';
import { Flag, Hysteresis } from './hysteresis.js';

export interface HealthLimits {
  temperature_warn_c: number;
  disk_warn_pct: number;
  memory_warn_pct: number;
  write_budget_mb_per_day: number;
}

/**
 * Turns readings into alerts with hysteresis: each condition raises once when crossed and
 * clears once when well back (temperature 5 °C lower, disk/memory 5 points lower).
 */
export class HealthAlerts {
  private readonly sink: AlertSink;
  private readonly limits: HealthLimits;
  private readonly temperature: Hysteresis;
  private readonly disk: Hysteresis;
  private readonly memory: Hysteresis;
  private readonly undervoltage = new Flag();
  private readonly throttled = new Flag();
  private readonly budget = new Flag();
  private readonly diskLow = new Flag();
  private readonly diskFull = new Flag();

  constructor(deps: { sink: AlertSink; limits: HealthLimits }) {
    this.sink = deps.sink;
    this.limits = deps.limits;
    this.temperature = new Hysteresis(deps.limits.temperature_warn_c, deps.limits.temperature_warn_c - 5);
    this.disk = new Hysteresis(deps.limits.disk_warn_pct, deps.limits.disk_warn_pct - 5);
    this.memory = new Hysteresis(deps.limits.memory_warn_pct, deps.limits.memory_warn_pct - 5);
  }

  /** Codes of the conditions currently raised (shown in the status section). */
  active(): string[] {
    const out: string[] = [];
    if (this.temperature.raised) out.push('temperature_high');
    if (this.disk.raised) out.push('disk_usage_high');
    if (this.memory.raised) out.push('memory_high');
    if (this.undervoltage.raised) out.push('undervoltage');
    if (this.throttled.raised) out.push('throttled');
    if (this.budget.raised) out.push('write_budget_exceeded');
    if (this.diskLow.raised) out.push('disk_low');
    if (this.diskFull.raised) out.push('disk_full');
    return out;
  }

  health(r: HealthReading, writtenTodayMb: number | null): void {
    const L = this.limits;
    this.edge(this.temperature.update(r.temperature_c), 'temperature_high', 'warning', {
      raise: `CPU temperature ${r.temperature_c} °C is at or above ${L.temperature_warn_c} °C`,
      clear: `CPU temperature back to ${r.temperature_c} °C`,
      details: { temperature_c: r.temperature_c, limit_c: L.temperature_warn_c },
    });
    this.edge(this.undervoltage.update(r.undervoltage_now), 'undervoltage', 'critical', {
      raise: 'the power supply is too weak (undervoltage): replace the adapter or cable',
      clear: 'undervoltage gone',
      details: { flags: r.throttled_flags },
    });
    this.edge(this.throttled.update(r.throttled), 'throttled', 'warning', {
      raise: 'the CPU is being throttled or frequency-capped by the firmware',
      clear: 'CPU throttling ended',
      details: { flags: r.throttled_flags },
    });
    this.edge(this.disk.update(r.disk_used_pct), 'disk_usage_high', 'warning', {
      raise: `disk ${r.disk_used_pct}% used (limit ${L.disk_warn_pct}%)`,
      clear: `disk usage back to ${r.disk_used_pct}%`,
      details: { disk_used_pct: r.disk_used_pct },
    });
    this.edge(this.memory.update(r.memory_used_pct), 'memory_high', 'warning', {
      raise: `memory ${r.memory_used_pct}% used (limit ${L.memory_warn_pct}%)`,
      clear: `memory usage back to ${r.memory_used_pct}%`,
      details: { memory_used_pct: r.memory_used_pct },
    });
    const over = writtenTodayMb === null ? null : writtenTodayMb > L.write_budget_mb_per_day;
    this.edge(this.budget.update(over), 'write_budget_exceeded', 'warning', {
      raise: `the daemon wrote ${writtenTodayMb} MB today, over the ${L.write_budget_mb_per_day} MB/day budget (SD card wear)`,
      clear: 'daily write volume back within budget (new day)',
      details: { written_mb: writtenTodayMb, budget_mb: L.write_budget_mb_per_day },
    });
  }

  diskState(state: DiskState, freeMb: number | null): void {
    this.edge(this.diskLow.update(state !== 'ok'), 'disk_low', 'warning', {
      raise: `free disk space low (${freeMb} MB): raw history is no longer written`,
      clear: `free disk space recovered (${freeMb} MB)`,
      details: { free_mb: freeMb, state },
    });
    this.edge(this.diskFull.update(state === 'full'), 'disk_full', 'critical', {
      raise: `disk full (${freeMb} MB free): new acknowledged data is refused (507)`,
      clear: `disk no longer full (${freeMb} MB free)`,
      details: { free_mb: freeMb, state },
    });
  }

  private edge(
    change: 'raise' | 'clear' | null,
    code: string,
    severity: 'warning' | 'critical',
    text: { raise: string; clear: string; details: Record<string, unknown> },
  ): void {
    if (!change) return;
    this.sink.raise({
      code,
      severity: change === 'raise' ? severity : 'info',
      message: change === 'raise' ? text.raise : text.clear,
      details: { ...text.details, state: change === 'raise' ? 'raised' : 'cleared' },
    });
  }
}
