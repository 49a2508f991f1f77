import { readFleet } from '../fleet.js';
import { fleetRoutes } from '../fleet-routes.js';
import { villageRoutes } from '../web/village-routes.js';
import { defineRegencyModule } from './contract.js';

/** The wall of villages and one village's page (its state, history and gaps). */
export const fleetModule = defineRegencyModule({
  name: 'fleet',
  slice: () => ({}),
  build: ({ deps }) => {
    const { read, registry, silence, clock } = deps;
    return {
      provides: undefined,
      accountRoutes: [
        fleetRoutes({ fleet: () => readFleet(read, registry, silence) }),
        villageRoutes({ db: deps.store.db, registry, silence, clock }),
      ],
    };
  },
});
