import type { DeviceStatus, LinkStatus } from '../status/types.js';

/**
 * Payloads of the outbox messages the report module derives from bus events, in one place
 * for the gateway and for the fleet simulator that imitates it.
 */

/** The SPEC usage event: the kiosk's fields (no nulls), plus when the box received it. */
export function usageEvent(e: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { type: 'service_use' };
  for (const [k, v] of Object.entries(e)) if (v !== null && v !== undefined) out[k] = v;
  return out;
}

export function usagePayload(deviceId: string, events: ReadonlyArray<Record<string, unknown>>) {
  return { device_id: deviceId, events: events.map(usageEvent) };
}

/** The `event` message for a change of link verdict. */
export function linkChangedEvent(l: LinkStatus) {
  const severity = l.verdict === 'down' ? 'critical' : l.verdict === 'up' ? 'info' : 'warning';
  return {
    code: 'link_changed',
    severity,
    message: `link ${l.verdict}${l.fault_layer ? ` (${l.fault_layer})` : ''}`,
    details: { verdict: l.verdict, fault_layer: l.fault_layer, since: l.since },
  };
}

/** The `event` message for a change of device state. */
export function deviceChangedEvent(dev: DeviceStatus) {
  return {
    code: 'device_changed',
    severity: dev.state === 'offline' ? 'warning' : 'info',
    message: `device ${dev.id} ${dev.state}`,
    details: { id: dev.id, state: dev.state, reason: dev.reason },
  };
}

/** The retained MQTT Will on `status`: what the broker says when the box vanishes. */
export function willPayload(gw: string, boot: string): string {
  return JSON.stringify({ online: false, gw, boot });
}

/** What a clean stop publishes on `status` before DISCONNECT (no Will then). */
export function cleanStopPayload(gw: string, boot: string, ts: string): string {
  return JSON.stringify({ online: false, gw, boot, clean: true, ts });
}
