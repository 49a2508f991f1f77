import { PartitionUpkeep } from '../partitions.js';
import { PartitionRepo } from '../store/partition-repo.js';
import { defineRegencyModule } from './contract.js';

/** The month partitions of `messages` on PostgreSQL, made ahead (SQLite: nothing to do). */
export const partitionsModule = defineRegencyModule({
  name: 'partitions',
  slice: () => ({}),
  build: ({ deps, log }) => {
    if (deps.store.dialect !== 'postgres') return { provides: undefined, services: [] };
    const upkeep = new PartitionUpkeep({
      repo: new PartitionRepo({ db: deps.store.db }),
      clock: deps.clock,
      log: log('partitions'),
      scheduler: deps.scheduler,
    });
    return { provides: undefined, services: [upkeep] };
  },
});
