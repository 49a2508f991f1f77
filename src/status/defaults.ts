import type { Config } from '../config/schema.js';
import type { StatusObject } from './types.js';

/** What each section reads before its module has anything to say: empty, never invented. */
export function emptyStatus(config: Config, version: string): StatusObject {
  return {
    gateway: { id: config.gateway.id, name: config.gateway.name, version, boot: null, started_at: null },
    link: { verdict: 'unknown', fault_layer: null, since: null, layers: {}, outage: null },
    devices: config.devices.map((d) => ({
      id: d.id,
      name: d.name,
      kind: d.kind,
      state: 'unknown',
      since: null,
      reason: null,
      last_heartbeat: null,
    })),
    outbox: { depth: 0, bytes: 0, oldest_age_s: null, dropped: {}, connected: false },
    cache: {
      entries: 0,
      bytes: 0,
      upstreams: Object.fromEntries(
        config.cache.upstreams.map((u) => [u.name, { hits: 0, misses: 0, stale: 0, last_refresh: null }]),
      ),
    },
    system: {
      cpu_load: null,
      temperature_c: null,
      throttled: null,
      memory_used_pct: null,
      disk_used_pct: null,
      rss_mb: null,
    },
    clock: { synced: false, last_jump_s: null },
  };
}
