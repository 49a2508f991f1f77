import { AlertRepo } from '../alerts/alert-repo.js';
import { alertRoutes } from '../alerts/alert-routes.js';
import { AlertService } from '../alerts/alert-service.js';
import { hooksOf } from '../alerts/alert-watch.js';
import { readFleet } from '../fleet.js';
import { defineRegencyModule } from './contract.js';

/** Webhook alerts on village outages and security events, from a durable queue. */
export const alertsModule = defineRegencyModule({
  name: 'alerts',
  needs: ['collector'],
  // The alert service reads alerts and silent_after_s: it takes the whole config.
  slice: (c) => c,
  build: ({ config, deps, log, need }) => {
    const collector = need('collector');
    const alerts = new AlertService({
      config,
      repo: new AlertRepo({ db: deps.store.db }),
      clock: deps.clock,
      log: log('alerts'),
      scheduler: deps.scheduler,
      fleet: () => readFleet(deps.read, deps.registry, deps.silence),
      // Connected for at least one silence period: whatever the broker held has arrived.
      receiving: () => (collector.connectedForMs() ?? -1) >= config.silent_after_s * 1000,
    });
    return { provides: undefined, services: [alerts] };
  },
});

/**
 * The alert queue as the fleet page lists it (GET /api/v1/alerts). Apart from the sender so it
 * mounts with the other account routes, before the web module (the sender needs the collector,
 * which starts after it).
 */
export const alertListModule = defineRegencyModule({
  name: 'alert-list',
  slice: (c) => c,
  build: ({ config, deps }) => ({
    provides: undefined,
    accountRoutes: [
      alertRoutes({
        repo: new AlertRepo({ db: deps.store.db }),
        hooks: hooksOf(config),
        registry: deps.registry,
      }),
    ],
  }),
});
