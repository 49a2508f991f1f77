import type { StatusObject } from '../status/types.js';
import type { ClockSection } from './clock-service.js';
import type { SystemSection } from './system-service.js';

export type Emit = (value: number | null | undefined, labels?: Record<string, string>) => void;

export interface MetricDef {
  name: string;
  help: string;
  type: 'gauge' | 'counter';
  collect(s: StatusObject, emit: Emit): void;
}

const VERDICTS = ['up', 'degraded', 'down', 'unknown'] as const;
const DEVICE_STATES = ['online', 'degraded', 'offline', 'unknown'] as const;
const DISK_STATES = ['ok', 'low', 'full'] as const;
const THROTTLE_FLAGS = [
  'undervoltage_now',
  'freq_capped_now',
  'throttled_now',
  'soft_temp_limit_now',
  'undervoltage_since_boot',
  'freq_capped_since_boot',
  'throttled_since_boot',
  'soft_temp_limit_since_boot',
];

const b = (v: boolean | null | undefined) => (v === null || v === undefined ? null : v ? 1 : 0);
const div = (v: number | null | undefined, by: number) => (v === null || v === undefined ? null : v / by);
const epoch = (iso: string | null | undefined) => (iso ? Date.parse(iso) / 1000 : null);
const sys = (s: StatusObject) => s.system as Partial<SystemSection>;
const clk = (s: StatusObject) => s.clock as Partial<ClockSection>;

const g = (name: string, help: string, collect: MetricDef['collect']): MetricDef => ({
  name: `kampung_${name}`,
  help,
  type: 'gauge',
  collect,
});
const c = (name: string, help: string, collect: MetricDef['collect']): MetricDef => ({
  name: `kampung_${name}`,
  help,
  type: 'counter',
  collect,
});

/**
 * Every metric, named by Prometheus conventions (base units, _ratio, _bytes, _seconds,
 * _total on counters). Labels carry only ids from the config (layer, device id, upstream);
 * no personal data exists in the status object to begin with.
 */
export function statusMetrics(): MetricDef[] {
  return [
    g('gateway_info', 'Gateway identity and version (always 1).', (s, e) =>
      e(1, { gateway: s.gateway.id, version: s.gateway.version }),
    ),
    g('link_verdict', 'Link verdict: 1 for the current one.', (s, e) => {
      for (const v of VERDICTS) e(s.link.verdict === v ? 1 : 0, { verdict: v });
    }),
    g('link_fault_layer', 'The layer blamed for the current fault (1), absent when none.', (s, e) => {
      if (s.link.fault_layer) e(1, { layer: s.link.fault_layer });
    }),
    g('link_outage_active', 'Whether an outage is in progress.', (s, e) => e(s.link.outage ? 1 : 0)),
    g('link_layer_up', 'Per-layer state: 1 up, 0 otherwise; absent while unknown.', (s, e) => {
      for (const [layer, l] of Object.entries(s.link.layers))
        if (l.state !== 'unknown') e(l.state === 'up' ? 1 : 0, { layer });
    }),
    g('link_layer_loss_ratio', 'Per-layer packet loss, 0..1.', (s, e) => {
      for (const [layer, l] of Object.entries(s.link.layers)) e(div(l.loss_pct, 100), { layer });
    }),
    g('link_layer_rtt_seconds', 'Per-layer round-trip time.', (s, e) => {
      for (const [layer, l] of Object.entries(s.link.layers)) e(div(l.rtt_ms, 1000), { layer });
    }),
    g('device_state', 'Device state: 1 for the current one.', (s, e) => {
      for (const d of s.devices)
        for (const st of DEVICE_STATES) e(d.state === st ? 1 : 0, { device: d.id, kind: d.kind, state: st });
    }),
    c('device_auth_failures_total', 'Device requests refused for a missing or wrong token.', (s, e) =>
      e(s.security?.device_auth_failures),
    ),
    c(
      'device_auth_throttled_total',
      'Device requests refused (429) from addresses that guessed too often.',
      (s, e) => e(s.security?.device_auth_throttled),
    ),
    g('device_auth_blocked_sources', 'Source addresses blocked now for wrong device tokens.', (s, e) =>
      e(s.security?.blocked_sources),
    ),
    g('outbox_depth_messages', 'Messages waiting in the durable outbox.', (s, e) => e(s.outbox.depth)),
    g('outbox_size_bytes', 'Bytes waiting in the durable outbox.', (s, e) => e(s.outbox.bytes)),
    g('outbox_oldest_age_seconds', 'Age of the oldest waiting message.', (s, e) => e(s.outbox.oldest_age_s)),
    g('outbox_connected', 'Whether the MQTT broker is connected.', (s, e) => e(b(s.outbox.connected))),
    c('outbox_dropped_total', 'Messages dropped by the outbox policy, per class.', (s, e) => {
      for (const [cls, n] of Object.entries(s.outbox.dropped)) e(n, { class: cls });
    }),
    g('cache_entries', 'Entries in the service-data cache.', (s, e) => e(s.cache.entries)),
    g('cache_size_bytes', 'Bytes in the service-data cache.', (s, e) => e(s.cache.bytes)),
    c('cache_requests_total', 'Cache lookups per upstream and result.', (s, e) => {
      for (const [upstream, u] of Object.entries(s.cache.upstreams)) {
        e(u.hits, { upstream, result: 'hit' });
        e(u.misses, { upstream, result: 'miss' });
        e(u.stale, { upstream, result: 'stale' });
      }
    }),
    g('cache_last_refresh_timestamp_seconds', 'Last successful prefetch per upstream.', (s, e) => {
      for (const [upstream, u] of Object.entries(s.cache.upstreams)) e(epoch(u.last_refresh), { upstream });
    }),
    g('system_load1', 'One-minute load average.', (s, e) => e(s.system.cpu_load)),
    g('system_cpu_cores', 'CPU cores available.', (s, e) => e(sys(s).cpu_cores)),
    g('system_temperature_celsius', 'CPU temperature; absent without a sensor.', (s, e) =>
      e(s.system.temperature_c),
    ),
    g('system_throttled', 'Firmware limits the CPU now (Raspberry Pi); absent elsewhere.', (s, e) =>
      e(b(s.system.throttled)),
    ),
    g('system_throttle_flag', 'Raspberry Pi firmware throttling flags.', (s, e) => {
      const flags = sys(s).throttled_flags;
      if (!flags) return;
      for (const f of THROTTLE_FLAGS) e(flags.includes(f) ? 1 : 0, { flag: f });
    }),
    g('system_memory_used_ratio', 'Memory in use (total minus available), 0..1.', (s, e) =>
      e(div(s.system.memory_used_pct, 100)),
    ),
    g('system_disk_used_ratio', 'Data-dir filesystem in use, 0..1.', (s, e) =>
      e(div(s.system.disk_used_pct, 100)),
    ),
    g('system_disk_free_bytes', 'Free bytes on the data-dir filesystem.', (s, e) =>
      e(div(sys(s).disk_free_mb, 1 / 1048576)),
    ),
    g('system_disk_state', 'Disk guard state: 1 for the current one.', (s, e) => {
      const st = sys(s).disk_state;
      if (st) for (const d of DISK_STATES) e(st === d ? 1 : 0, { state: d });
    }),
    c('system_health_collections_total', 'Health readings taken by this run.', (s, e) =>
      e(sys(s).collections),
    ),
    g('system_uptime_seconds', 'Seconds since the box booted.', (s, e) => e(sys(s).uptime_s)),
    c(
      'storage_written_bytes_total',
      'Bytes this daemon process wrote to storage (/proc/self/io; restarts at 0 with the process).',
      (s, e) => e(sys(s).io_write_bytes),
    ),
    g(
      'storage_write_budget_bytes',
      'Daily write budget (compare with increase of the written total over 1d).',
      (s, e) => e(div(sys(s).write_budget_mb, 1 / 1048576)),
    ),
    g('storage_database_bytes', 'Size of the database file.', (s, e) => e(div(sys(s).db_mb, 1 / 1048576))),
    g('storage_wal_bytes', 'Size of the database write-ahead log.', (s, e) =>
      e(div(sys(s).wal_mb, 1 / 1048576)),
    ),
    g('clock_synced', 'Whether the wall clock is NTP-synchronised.', (s, e) => e(b(s.clock.synced))),
    g('clock_last_jump_seconds', 'Size of the last wall-clock jump (signed).', (s, e) =>
      e(s.clock.last_jump_s),
    ),
    c('clock_jumps_total', 'Wall-clock jumps seen by this run.', (s, e) => e(clk(s).jumps)),
  ];
}
