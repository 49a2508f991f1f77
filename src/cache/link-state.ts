import type { GatewayBus } from '../events.js';

/**
 * Whether the way to the upstreams is down right now (then /svc does not even try upstream):
 * the verdict is "down" at a layer on that way. A fault at the `regency` layer alone (the
 * regency's broker or service unreachable, the internet fine) does not stop the cache from
 * asking its upstreams or delivering queued writes.
 */
export interface LinkState {
  isDown(): boolean;
}

/** Follows `link.changed` on the bus; until the uplink module says otherwise, not down. */
export class BusLinkState implements LinkState {
  private readonly bus: GatewayBus;
  private down = false;
  private off: (() => void) | undefined;
  private readonly upListeners: Array<() => void> = [];

  constructor(deps: { bus: GatewayBus }) {
    this.bus = deps.bus;
  }

  /** Called when the verdict leaves "down" (the write queue retries at once). */
  onRecovered(fn: () => void): void {
    this.upListeners.push(fn);
  }

  start(): void {
    this.off = this.bus.on('link.changed', (s) => {
      const was = this.down;
      this.down = s.verdict === 'down' && s.fault_layer !== 'regency';
      if (was && !this.down) for (const fn of this.upListeners) fn();
    });
  }

  stop(): void {
    this.off?.();
    this.off = undefined;
  }

  isDown(): boolean {
    return this.down;
  }
}
