import { BoxConfirm } from '../provision/box-confirm.js';
import { CredentialsRepo } from '../provision/credentials-repo.js';
import { Provisioner, provisionOutDir } from '../provision/provisioner.js';
import { defineRegencyModule } from './contract.js';

declare module './contract.js' {
  interface RegencyProvides {
    rotation: {
      /** The one provisioner of `regency run`: its changes run one at a time. */
      provisioner: Provisioner;
      /** Fed by the collector with each live birth's `mqtt_user`. */
      boxConfirm: BoxConfirm;
    };
  }
}

/**
 * Rotations in `regency run`: the provisioner the grace sweep and the box's own confirmations
 * share, and the box's confirmation (a live birth naming the identity awaiting it). Listed
 * before the collector, which hands it the births; stopped after it.
 */
export const rotationModule = defineRegencyModule({
  name: 'rotation',
  // The provisioner reads the provision keys, data_dir and mqtt: it takes the whole config.
  slice: (c) => c,
  build: ({ config, deps, log }) => {
    const credentials = new CredentialsRepo({ db: deps.store.db });
    const provisioner = new Provisioner({
      config,
      registry: deps.registry,
      credentials,
      wallMs: () => deps.clock.wallMs(),
      source: 'regency',
    });
    const boxConfirm = new BoxConfirm({
      provisioner,
      credentials,
      out: provisionOutDir(config, undefined),
      log: log('provision'),
    });
    return { provides: { provisioner, boxConfirm }, services: [boxConfirm] };
  },
});
