import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Kysely } from 'kysely';
import type { Clock } from '../../core/clock.js';
import { GwError } from '../../core/errors.js';
import { fleetVillage, type SilenceClock } from '../fleet.js';
import type { RegencyTables } from '../store/schema.js';
import { VillageRepo } from '../store/village-repo.js';
import type { VillageRegistry } from '../villages.js';
import {
  CodeParams,
  Err,
  HistoryQuery,
  HistoryReply,
  OutagesQuery,
  OutagesReply,
  VillageDetail,
} from './village-schemas.js';
import { bucketHealth, outagesFrom, villageDetail } from './village-view.js';

export interface VillageRoutesDeps {
  db: Kysely<RegencyTables>;
  registry: VillageRegistry;
  silence: SilenceClock;
  clock: Clock;
}

/** At most this many points in a history answer: about one per pixel column of a phone chart. */
export const MAX_POINTS = 300;
const DEFAULT_OUTAGE_DAYS = 30;

/**
 * One village in detail (SPEC `GET /api/v1/villages/{code}`, `.../history`, `.../outages`),
 * behind the account guard. A malformed code is refused by the schema (400); a code neither
 * in the registry nor ever heard from is 404.
 */
export function villageRoutes(deps: VillageRoutesDeps): FastifyPluginAsyncTypebox {
  const repo = new VillageRepo({ db: deps.db });
  const known = async (code: string) => {
    const row = await repo.row(code);
    if (!row && !deps.registry.get(code)) throw new GwError('GW_ERR_NOT_FOUND', `no village ${code}`);
    return row;
  };
  const errors = { 400: Err, 401: Err, 404: Err };

  return async (app) => {
    app.get(
      '/api/v1/villages/:code',
      { schema: { params: CodeParams, response: { 200: VillageDetail, ...errors } } },
      async (request, reply) => {
        const { code } = request.params;
        const row = await known(code);
        const devices = await repo.devices(code);
        const counts: Record<string, number> = {};
        for (const d of devices) counts[d.state] = (counts[d.state] ?? 0) + 1;
        const revokedMs = await repo.revokedMs(code);
        const tile = fleetVillage(code, deps.registry, row, counts, deps.silence, revokedMs);
        const healthMs = row?.health ? await repo.lastHealthMs(code) : null;
        reply.header('cache-control', 'no-store');
        return villageDetail(tile, row, devices, healthMs);
      },
    );

    app.get(
      '/api/v1/villages/:code/history',
      {
        schema: { params: CodeParams, querystring: HistoryQuery, response: { 200: HistoryReply, ...errors } },
      },
      async (request, reply) => {
        const { code } = request.params;
        await known(code);
        const toMs = deps.clock.wallMs();
        const fromMs = toMs - request.query.hours * 3_600_000;
        const bucketMs = Math.max(60_000, Math.ceil((toMs - fromMs) / MAX_POINTS / 60_000) * 60_000);
        const msgs = await repo.messages(code, 'health', fromMs, toMs, 200_000);
        reply.header('cache-control', 'no-store');
        return {
          code,
          from: new Date(fromMs).toISOString(),
          to: new Date(toMs).toISOString(),
          bucket_s: bucketMs / 1000,
          points: bucketHealth(msgs, fromMs, bucketMs),
        };
      },
    );

    app.get(
      '/api/v1/villages/:code/outages',
      {
        schema: { params: CodeParams, querystring: OutagesQuery, response: { 200: OutagesReply, ...errors } },
      },
      async (request, reply) => {
        const { code } = request.params;
        const row = await known(code);
        const now = deps.clock.wallMs();
        const toMs = request.query.to ? stamp(request.query.to, 'to') : now;
        const fromMs = request.query.from
          ? stamp(request.query.from, 'from')
          : toMs - DEFAULT_OUTAGE_DAYS * 86_400_000;
        if (fromMs > toMs) throw new GwError('GW_ERR_VALIDATION', 'from is after to');
        // An outage is stored when it ends: anything ending from `from` on may overlap.
        const msgs = await repo.messages(code, 'outage', fromMs, Math.max(now, toMs) + 86_400_000, 10_000);
        reply.header('cache-control', 'no-store');
        return {
          code,
          from: new Date(fromMs).toISOString(),
          to: new Date(toMs).toISOString(),
          outages: outagesFrom(msgs, row?.link ?? null, fromMs, toMs),
        };
      },
    );
  };
}

/** A date or a time without a zone is read in WIB, as people at the regency mean it. */
function stamp(value: string, name: string): number {
  const zoned = /(Z|[+-]\d{2}:?\d{2})$/.test(value);
  const ms = Date.parse(
    zoned ? value : `${value.length === 10 ? `${value}T00:00:00` : value.replace(' ', 'T')}+07:00`,
  );
  if (Number.isNaN(ms)) throw new GwError('GW_ERR_VALIDATION', `${name}: not a date`);
  return ms;
}
