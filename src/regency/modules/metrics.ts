import { AlertRepo } from '../alerts/alert-repo.js';
import { RegencyMetrics } from '../regency-metrics.js';
import { readRegencyStatus } from '../status.js';
import { defineRegencyModule } from './contract.js';

declare module './contract.js' {
  interface RegencyProvides {
    metrics: RegencyMetrics;
  }
}

/** GET /metrics (Prometheus): the fleet's states, the store's totals, the alert queue. Off with http.metrics: false. */
export const metricsModule = defineRegencyModule({
  name: 'metrics',
  slice: (c) => (c.http.metrics ? {} : undefined),
  build: ({ deps }) => {
    const alerts = new AlertRepo({ db: deps.store.db });
    const metrics = new RegencyMetrics({
      read: () => readRegencyStatus(deps.read, deps.registry, deps.silence),
      alerts: () => alerts.counts(),
    });
    return { provides: metrics, services: [metrics] };
  },
});
