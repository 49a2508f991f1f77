import type { StatusObject } from '../status/types.js';

/** The `health` payload: the status object with devices summarised (SPEC "MQTT" health). */
export function buildHealth(s: StatusObject, droppedSinceLast: Record<string, number>) {
  const byState: Record<string, number> = { online: 0, degraded: 0, offline: 0, unknown: 0 };
  for (const d of s.devices) byState[d.state] = (byState[d.state] ?? 0) + 1;
  return {
    gateway: {
      id: s.gateway.id,
      version: s.gateway.version,
      boot: s.gateway.boot,
      started_at: s.gateway.started_at,
    },
    link: {
      verdict: s.link.verdict,
      fault_layer: s.link.fault_layer,
      since: s.link.since,
      outage: s.link.outage,
    },
    devices: {
      total: s.devices.length,
      by_state: byState,
      not_online: s.devices
        .filter((d) => d.state !== 'online')
        .slice(0, 50)
        .map((d) => ({ id: d.id, state: d.state, reason: d.reason })),
    },
    outbox: { ...s.outbox, dropped_since_last: droppedSinceLast },
    cache: s.cache,
    system: s.system,
    clock: s.clock,
  };
}
