import type { Bus } from './core/bus.js';
import type { DeviceStatus, LinkStatus } from './status/types.js';

/**
 * What the daemon's modules tell each other. Payloads carry no personal data.
 * Add an event here when a module produces something others consume.
 */
export interface GatewayEvents {
  /** The link verdict or fault layer changed. */
  'link.changed': LinkStatus;
  /** An outage ended (ledger row written). */
  /** `interrupted`: the daemon stopped (power cut, kill) during it; its end is the last moment seen. */
  'outage.ended': {
    start: string;
    end: string;
    duration_s: number;
    fault_layer: string | null;
    interrupted?: boolean;
  };
  /** A device's state changed. */
  'device.changed': DeviceStatus;
  /** Usage events were durably stored (ids are the kiosks' UUIDs). */
  'usage.stored': { device_id: string; events: Array<Record<string, unknown>> };
  /** An alert or notable state change for the MQTT `event` topic and the page. */
  alert: {
    code: string;
    severity: 'info' | 'warning' | 'critical';
    message: string;
    details?: Record<string, unknown>;
  };
}

export type GatewayBus = Bus<GatewayEvents>;
