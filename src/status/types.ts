/** The status object of SPEC "The status object": CLI `status --json`, GET /api/v1/status, MQTT health. */
export type LinkVerdict = 'up' | 'degraded' | 'down' | 'unknown';
export type DeviceState = 'online' | 'degraded' | 'offline' | 'unknown';

export interface GatewayStatus {
  id: string;
  name: string;
  version: string;
  /** Changes at every daemon start (the MQTT envelope's `boot`). */
  boot: string | null;
  started_at: string | null;
  /** Extra: whether a daemon process is running on this data dir right now. */
  running?: boolean;
  last_alive?: string | null;
  previous_run_unclean?: boolean;
}

export interface LayerStatus {
  state: 'up' | 'degraded' | 'down' | 'unknown';
  loss_pct: number | null;
  rtt_ms: number | null;
}

/**
 * The ladder's layers, lowest first: the one list of them. The verdict walks them in this
 * order and `link.layers` keeps it, so the page shows them in payload order.
 */
export const LAYERS = ['lan', 'isp', 'dns', 'internet', 'regency'] as const;
export type Layer = (typeof LAYERS)[number];

export interface LinkStatus {
  verdict: LinkVerdict;
  fault_layer: Layer | null;
  since: string | null;
  /** In ladder order (LAYERS), lowest first; only the layers that have probes. */
  layers: Record<string, LayerStatus>;
  outage: { start: string; fault_layer: string | null } | null;
  /** Extra (uplink module): each probe's latest view, problems with the probes themselves, interface facts. */
  probes?: Record<string, ProbeStatus>;
  problems?: string[];
  iface?: InterfaceStatus | null;
}

export interface ProbeStatus {
  layer: string;
  type: string;
  state: 'up' | 'down' | 'unknown';
  degraded: boolean;
  outcome: string | null;
  latency_ms: number | null;
  loss_pct: number | null;
  detail: string | null;
}

export interface InterfaceStatus {
  name: string | null;
  operstate: string | null;
  speed_mbps: number | null;
  wireless: boolean;
  ssid: string | null;
  signal_dbm: number | null;
  rx_bps: number | null;
  tx_bps: number | null;
  today: { day: string; rx_bytes: number; tx_bytes: number } | null;
  throughput?: { at: string; bytes: number; mbps: number; error: string | null } | null;
}

export interface DeviceStatus {
  id: string;
  name: string;
  kind: string;
  state: DeviceState;
  since: string | null;
  reason: string | null;
  last_heartbeat: string | null;
}

export interface OutboxStatus {
  depth: number;
  bytes: number;
  oldest_age_s: number | null;
  dropped: Record<string, number>;
  connected: boolean;
}

export interface CacheStatus {
  entries: number;
  bytes: number;
  upstreams: Record<string, { hits: number; misses: number; stale: number; last_refresh: string | null }>;
}

export interface SystemStatus {
  cpu_load: number | null;
  temperature_c: number | null;
  throttled: boolean | null;
  memory_used_pct: number | null;
  disk_used_pct: number | null;
  rss_mb: number | null;
}

export interface ClockStatus {
  synced: boolean;
  last_jump_s: number | null;
  source?: string;
}

export interface StatusObject {
  gateway: GatewayStatus;
  link: LinkStatus;
  devices: DeviceStatus[];
  outbox: OutboxStatus;
  cache: CacheStatus;
  system: SystemStatus;
  clock: ClockStatus;
  /** Extra: refused device tokens and throttled addresses (no tokens, no addresses). */
  security?: SecurityStatus;
}

export interface SecurityStatus {
  device_auth_failures: number;
  device_auth_throttled: number;
  blocked_sources: number;
}

export type SectionName = keyof StatusObject;

/**
 * One section of the status object. `live()` answers from the running daemon's memory;
 * modules that also persist their state make the CLI's data-dir reader agree with it.
 */
export interface StatusSection<K extends SectionName = SectionName> {
  readonly section: K;
  live(): StatusObject[K];
}
