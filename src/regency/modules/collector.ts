import { Collector } from '../collector.js';
import { IngestQueue } from '../ingest-queue.js';
import { IngestRepo } from '../store/ingest-repo.js';
import { defineRegencyModule } from './contract.js';

declare module './contract.js' {
  interface RegencyProvides {
    collector: Collector;
  }
}

/**
 * The villages' messages: the MQTT collector acknowledges a message only once the ingest
 * queue has committed it; each commit marks the store healthy and refreshes the revoked list.
 * Live births go to the rotation module (a box confirming its new identity).
 */
export const collectorModule = defineRegencyModule({
  name: 'collector',
  needs: ['store', 'rotation'],
  // The collector reads mqtt, silent_after_s and more: it takes the whole config.
  slice: (c) => c,
  build: ({ config, deps, log, need }) => {
    const store = need('store');
    const { boxConfirm } = need('rotation');
    const ingest = new IngestRepo({
      db: deps.store.db,
      dialect: deps.store.dialect,
      sqlite: deps.store.sqlite,
      repairAfterMs: config.completeness.repair_after_s * 1000,
    });
    const ingestLog = log('ingest');
    let collector: Collector | undefined;
    const queue = new IngestQueue({
      commit: (batch) => ingest.commit(batch),
      onCommitted: (r, size) => {
        store.committed();
        collector?.revoked(r.revoked);
        if (r.quarantined > 0 || r.gapsOpened > 0)
          ingestLog.info({ size, quarantined: r.quarantined, gapsOpened: r.gapsOpened }, 'batch committed');
      },
      ping: () => store.ping(),
      log: ingestLog,
      after: (ms, fn) => deps.scheduler.after('ingest-retry', ms, fn),
    });
    collector = new Collector({
      config,
      clock: deps.clock,
      log: log('collector'),
      queue,
      onSeen: (gw, mono) => deps.silence.heard(gw, mono),
      // A live birth naming the village's new identity: the box confirms its rotation.
      onBirth: (gw, user) => void boxConfirm.birth(gw, user),
      revoked: deps.revoked,
      ...(deps.dropBeforeCommit ? { dropBeforeCommit: deps.dropBeforeCommit } : {}),
    });
    return { provides: collector, services: [collector] };
  },
});
