import { isDiskFull } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { GatewayBus, GatewayEvents } from '../events.js';
import type { AlertsRepo } from '../store/alerts-repo.js';
import type { Store } from '../store/store.js';

export type AlertInput = GatewayEvents['alert'];

const MAX_PENDING = 100;

/**
 * Records an alert in the alerts table and announces it on the bus (MQTT `event`, page).
 * The bus always hears it at once; if the disk is full the row waits in memory (bounded)
 * and is written by the next `flush()`, so an alert about a full disk is not itself lost.
 */
export class AlertSink {
  private readonly store: Store;
  private readonly alerts: AlertsRepo;
  private readonly bus: GatewayBus;
  private readonly log: Logger;
  private readonly pending: AlertInput[] = [];
  private droppedPending = 0;

  constructor(deps: { store: Store; alerts: AlertsRepo; bus: GatewayBus; log: Logger }) {
    this.store = deps.store;
    this.alerts = deps.alerts;
    this.bus = deps.bus;
    this.log = deps.log;
  }

  raise(alert: AlertInput): void {
    this.log[alert.severity === 'info' ? 'info' : 'warn'](
      { code: alert.code, ...alert.details },
      alert.message,
    );
    this.bus.emit('alert', alert);
    if (this.pending.length >= MAX_PENDING) {
      this.pending.shift();
      this.droppedPending++;
    }
    this.pending.push(alert);
    this.flush();
  }

  /** Writes waiting alerts; returns how many are still waiting. */
  flush(): number {
    if (this.pending.length === 0) return 0;
    try {
      this.store.batch(() => {
        for (const a of this.pending) this.alerts.add(a.code, a.severity, a.message, a.details);
      });
      this.pending.length = 0;
    } catch (err) {
      if (!isDiskFull(err)) this.log.error({ err }, 'cannot record alert');
    }
    return this.pending.length;
  }

  get waiting(): number {
    return this.pending.length;
  }

  get dropped(): number {
    return this.droppedPending;
  }
}
