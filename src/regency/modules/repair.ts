import { GapRepair } from '../repair/gap-repair.js';
import { RepairRepo } from '../store/repair-repo.js';
import { defineRegencyModule } from './contract.js';

/** Asks villages to resend the seqs the store is missing (the gateway's `resend` command). */
export const repairModule = defineRegencyModule({
  name: 'repair',
  needs: ['commands'],
  slice: (c) => ({
    repairAfterMs: c.completeness.repair_after_s * 1000,
    timeoutMs: c.commands.timeout_s * 1000,
  }),
  build: ({ config, deps, log, need }) => {
    const { client, audit } = need('commands');
    const repair = new GapRepair({
      repo: new RepairRepo({ db: deps.store.db, dialect: deps.store.dialect }),
      client,
      audit,
      clock: deps.clock,
      scheduler: deps.scheduler,
      log: log('gap-repair'),
      repairAfterMs: config.repairAfterMs,
      timeoutMs: config.timeoutMs,
    });
    return { provides: undefined, services: [repair] };
  },
});
