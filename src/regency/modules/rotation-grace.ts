import { CredentialsRepo } from '../provision/credentials-repo.js';
import { GraceSweeper } from '../provision/grace-sweeper.js';
import { Provisioner, provisionOutDir } from '../provision/provisioner.js';
import { defineRegencyModule } from './contract.js';

/**
 * Ends the rotations whose grace is over (the old identity retired, the broker reloaded) and
 * finishes what a killed `regency provision` left. Listed after alerts, as it started before.
 */
export const rotationGraceModule = defineRegencyModule({
  name: 'rotation-grace',
  // The provisioner reads the provision keys, data_dir and mqtt: it takes the whole config.
  slice: (c) => c,
  build: ({ config, deps, log }) => {
    const sweeper = new GraceSweeper({
      provisioner: new Provisioner({
        config,
        registry: deps.registry,
        credentials: new CredentialsRepo({ db: deps.store.db }),
        wallMs: () => deps.clock.wallMs(),
        source: 'regency',
      }),
      out: provisionOutDir(config, undefined),
      scheduler: deps.scheduler,
      log: log('provision'),
    });
    return { provides: undefined, services: [sweeper] };
  },
});
