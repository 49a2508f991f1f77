import { incidentRoutes } from '../incidents/incident-routes.js';
import { IncidentRepo } from '../store/incident-repo.js';
import { defineRegencyModule } from './contract.js';

/** Outage incidents derived from the villages' verdicts, with their evidence, grouped by cause. */
export const incidentsModule = defineRegencyModule({
  name: 'incidents',
  slice: (c) => ({
    gapMs: c.silent_after_s * 1000,
    policy: { sla: c.sla, maintenance: c.maintenance },
  }),
  build: ({ config, deps }) => ({
    provides: undefined,
    accountRoutes: [
      incidentRoutes({
        repo: new IncidentRepo({ db: deps.store.db, dialect: deps.store.dialect }),
        registry: deps.registry,
        wallMs: () => deps.clock.wallMs(),
        gapMs: config.gapMs,
        policy: config.policy,
      }),
    ],
  }),
});
