import { GraceSweeper } from '../provision/grace-sweeper.js';
import { provisionOutDir } from '../provision/provisioner.js';
import { defineRegencyModule } from './contract.js';

/**
 * Ends the rotations whose grace is over (the old identity retired, the broker reloaded) and
 * finishes what a killed `regency provision` left. Listed after alerts, as it started before;
 * its provisioner is the rotation module's (one change at a time with the box's confirmations).
 */
export const rotationGraceModule = defineRegencyModule({
  name: 'rotation-grace',
  needs: ['rotation'],
  slice: (c) => c,
  build: ({ config, deps, log, need }) => {
    const sweeper = new GraceSweeper({
      provisioner: need('rotation').provisioner,
      out: provisionOutDir(config, undefined),
      scheduler: deps.scheduler,
      log: log('provision'),
    });
    return { provides: undefined, services: [sweeper] };
  },
});
