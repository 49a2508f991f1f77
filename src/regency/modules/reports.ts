import type { RegencyConfig } from '../config-schema.js';
import { reportRoutes } from '../reports/report-routes.js';
import { ReportRepo } from '../store/report-repo.js';
import { defineRegencyModule } from './contract.js';

/** Monthly availability (SLA per ISP, maintenance windows), completeness and usage reports. */
export const reportsModule = defineRegencyModule({
  name: 'reports',
  slice: (c): Pick<RegencyConfig, 'sla' | 'maintenance'> => ({ sla: c.sla, maintenance: c.maintenance }),
  build: ({ config, deps }) => ({
    provides: undefined,
    accountRoutes: [
      reportRoutes({
        repo: new ReportRepo({ db: deps.store.db }),
        registry: deps.registry,
        wallMs: () => deps.clock.wallMs(),
        policy: config,
      }),
    ],
  }),
});
