import { Type } from '@sinclair/typebox';

/** Box health, storage wear and clock trust. Every key has a default: the section may be omitted. */
export const SystemConfigSchema = Type.Object(
  {
    health_interval_s: Type.Integer({ minimum: 5, maximum: 3600, default: 30 }),
    write_budget_mb_per_day: Type.Number({ minimum: 1, maximum: 100000, default: 100 }),
    disk_floor_mb: Type.Number({ minimum: 1, maximum: 100000, default: 50 }),
    disk_warn_pct: Type.Number({ minimum: 1, maximum: 100, default: 90 }),
    memory_warn_pct: Type.Number({ minimum: 1, maximum: 100, default: 90 }),
    temperature_warn_c: Type.Number({ minimum: 30, maximum: 120, default: 80 }),
    clock_unsynced_alert_s: Type.Integer({ minimum: 60, maximum: 604800, default: 3600 }),
    clock_check_interval_s: Type.Integer({ minimum: 1, maximum: 3600, default: 60 }),
    clock_jump_threshold_s: Type.Number({ minimum: 0.5, maximum: 3600, default: 2 }),
    /** systemd-timesyncd's flag file; a different path is only useful for tests and odd distros. */
    timesync_flag: Type.String({ minLength: 1, default: '/run/systemd/timesync/synchronized' }),
  },
  { additionalProperties: false, default: {} },
);
