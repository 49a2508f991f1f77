import { AlertRepo } from '../alerts/alert-repo.js';
import { AlertService } from '../alerts/alert-service.js';
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
