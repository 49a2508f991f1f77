import { RegencyAuth } from '../auth/regency-auth.js';
import { defineRegencyModule } from './contract.js';

declare module './contract.js' {
  interface RegencyProvides {
    accounts: RegencyAuth;
  }
}

/** Accounts and sessions of the fleet page (the guard the web module puts the API behind). */
export const accountsModule = defineRegencyModule({
  name: 'accounts',
  slice: (c) => ({ dataDir: c.data_dir }),
  build: ({ config, deps, log }) => {
    const auth = new RegencyAuth({
      db: deps.store.db,
      clock: deps.clock,
      log: log('auth'),
      scheduler: deps.scheduler,
      dataDir: config.dataDir,
      ...(deps.showSetupCode ? { showSetupCode: deps.showSetupCode } : {}),
    });
    return { provides: auth, services: [auth] };
  },
});
