import { Retention } from '../retention.js';
import { PartitionRepo } from '../store/partition-repo.js';
import { RetentionRepo } from '../store/retention-repo.js';
import { defineRegencyModule } from './contract.js';

/** Prunes raw messages and daily rows older than the retention policy, in small batches. */
export const retentionModule = defineRegencyModule({
  name: 'retention',
  slice: (c) => c,
  build: ({ config, deps, log }) => {
    const retention = new Retention({
      config,
      repo: new RetentionRepo({ db: deps.store.db }),
      ...(deps.store.dialect === 'postgres' ? { partitions: new PartitionRepo({ db: deps.store.db }) } : {}),
      clock: deps.clock,
      log: log('retention'),
      scheduler: deps.scheduler,
    });
    return { provides: undefined, services: [retention] };
  },
});
