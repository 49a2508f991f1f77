import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { ReportRepo } from '../store/report-repo.js';
import type { VillageRegistry } from '../villages.js';
import { availabilityReport, type SlaPolicy } from './availability.js';
import { completenessReport } from './completeness.js';
import { wantsCsv, wibDayPeriod, wibMonth } from './period.js';
import { availabilityCsv, usageCsv } from './report-csv.js';
import { usageReport } from './usage.js';

export interface ReportRouteDeps {
  repo: ReportRepo;
  registry: VillageRegistry;
  wallMs(): number;
  /** SLA contracts and maintenance windows from the config. */
  policy: SlaPolicy;
}

type Query = Record<string, unknown>;

/**
 * GET /api/v1/reports/availability, /api/v1/reports/usage (?month=YYYY-MM, WIB; &format=csv)
 * and /api/v1/completeness?day=YYYY-MM-DD. Read-only, from the store.
 */
export function reportRoutes(d: ReportRouteDeps): FastifyPluginAsync {
  return async (app) => {
    app.get('/api/v1/reports/availability', async (request, reply) => {
      const q = request.query as Query;
      const csv = wantsCsv(q.format);
      const period = wibMonth(q.month);
      const report = await availabilityReport(d.repo, d.registry, period, d.wallMs(), d.policy);
      return csv
        ? sendCsv(reply, `availability-${period.label}.csv`, availabilityCsv(report))
        : json(reply, report);
    });
    app.get('/api/v1/reports/usage', async (request, reply) => {
      const q = request.query as Query;
      const csv = wantsCsv(q.format);
      const period = wibMonth(q.month);
      const report = await usageReport(d.repo, d.registry, period);
      return csv ? sendCsv(reply, `usage-${period.label}.csv`, usageCsv(report)) : json(reply, report);
    });
    app.get('/api/v1/completeness', async (request, reply) => {
      const period = wibDayPeriod((request.query as Query).day);
      return json(reply, await completenessReport(d.repo, d.registry, period));
    });
  };
}

function json(reply: FastifyReply, body: unknown) {
  return reply.header('cache-control', 'no-store').send(body);
}

function sendCsv(reply: FastifyReply, file: string, text: string) {
  return reply
    .header('cache-control', 'no-store')
    .header('content-type', 'text/csv; charset=utf-8')
    .header('content-disposition', `attachment; filename="${file}"`)
    .send(text);
}
