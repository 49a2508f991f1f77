import type { FastifyPluginAsync } from 'fastify';
import { GwError } from '../../core/errors.js';
import type { SlaPolicy } from '../reports/availability.js';
import { wantsCsv } from '../reports/period.js';
import type { IncidentRepo } from '../store/incident-repo.js';
import type { VillageRegistry } from '../villages.js';
import { DEFAULT_DAYS, incidentReport, incidentsCsv } from './incident-report.js';

export interface IncidentRouteDeps {
  repo: IncidentRepo;
  registry: VillageRegistry;
  wallMs(): number;
  /** A silence longer than this inside an incident marks it interrupted (silent_after_s). */
  gapMs: number;
  /** Maintenance windows and charged layers: a grouped incident says whether it was planned. */
  policy?: SlaPolicy;
}

const LAYERS = ['lan', 'isp', 'dns', 'internet', 'regency', 'power', 'unknown'];

/**
 * GET /api/v1/incidents?from=&to=[&village=CODE][&layer=L][&format=csv]: outage incidents per
 * village and fault layer, derived from the verdict history (times in ISO or WIB dates), and
 * `groups`: those of several villages sharing a cause as one fleet incident (JSON only).
 */
export function incidentRoutes(d: IncidentRouteDeps): FastifyPluginAsync {
  return async (app) => {
    app.get('/api/v1/incidents', async (request, reply) => {
      const q = request.query as Record<string, unknown>;
      const csv = wantsCsv(q.format);
      const now = d.wallMs();
      const toMs = q.to === undefined ? now : stamp(q.to, 'to');
      const fromMs = q.from === undefined ? toMs - DEFAULT_DAYS * 86_400_000 : stamp(q.from, 'from');
      if (fromMs > toMs) throw new GwError('GW_ERR_VALIDATION', 'from is after to');
      const village = q.village;
      if (village !== undefined && (typeof village !== 'string' || !/^[0-9]{10}$/.test(village)))
        throw new GwError('GW_ERR_VALIDATION', 'village must be a 10-digit village code');
      const layer = q.layer;
      if (layer !== undefined && (typeof layer !== 'string' || !LAYERS.includes(layer)))
        throw new GwError('GW_ERR_VALIDATION', `layer must be one of ${LAYERS.join(', ')}`);
      const report = await incidentReport(d.repo, d.registry, {
        fromMs,
        toMs,
        nowMs: now,
        gapMs: d.gapMs,
        ...(d.policy ? { policy: d.policy } : {}),
        ...(village ? { village } : {}),
        ...(layer ? { layer } : {}),
      });
      reply.header('cache-control', 'no-store');
      if (!csv) return report;
      return reply
        .header('content-type', 'text/csv; charset=utf-8')
        .header('content-disposition', 'attachment; filename="incidents.csv"')
        .send(incidentsCsv(report));
    });
  };
}

/** A date or a time without a zone is read in WIB, as people at the regency mean it. */
function stamp(value: unknown, name: string): number {
  if (typeof value !== 'string') throw new GwError('GW_ERR_VALIDATION', `${name}: not a date`);
  const zoned = /(Z|[+-]\d{2}:?\d{2})$/.test(value);
  const ms = Date.parse(
    zoned ? value : `${value.length === 10 ? `${value}T00:00:00` : value.replace(' ', 'T')}+07:00`,
  );
  if (Number.isNaN(ms)) throw new GwError('GW_ERR_VALIDATION', `${name}: not a date`);
  return ms;
}
