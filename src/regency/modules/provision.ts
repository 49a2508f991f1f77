import { LoginThrottle } from '../auth/throttle.js';
import { BundleCodes } from '../provision/bundle-codes.js';
import { BUNDLE_CODE_POLICY, bundleRoutes } from '../provision/bundle-routes.js';
import { defineRegencyModule } from './contract.js';

/** A box fetches its bundle once with a one-time code (its own bearer auth, throttled per address). */
export const provisionModule = defineRegencyModule({
  name: 'provision',
  slice: () => ({}),
  build: ({ deps, log }) => {
    const { db } = deps.store;
    return {
      provides: undefined,
      publicRoutes: [
        bundleRoutes({
          codes: new BundleCodes({ db }),
          throttle: new LoginThrottle({ db, clock: deps.clock, policy: BUNDLE_CODE_POLICY }),
          clock: deps.clock,
          log: log('provision'),
        }),
      ],
    };
  },
});
