import { type FastifyPluginAsyncTypebox, Type } from '@fastify/type-provider-typebox';
import { GwError } from '../core/errors.js';
import type { LinkStatus } from '../status/types.js';
import type { HistoryRepo } from './history-repo.js';
import type { OutageRepo } from './outage-repo.js';
import { HOUR_MS } from './rollup.js';

export interface UplinkRoutesOptions {
  history: HistoryRepo;
  outages: OutageRepo;
  /** The live link section, for the ongoing outage. */
  link(): LinkStatus;
  wallMs(): number;
}

const Nullable = <T extends ReturnType<typeof Type.Number>>(t: T) => Type.Union([t, Type.Null()]);
const ErrorReply = Type.Object({ error: Type.String(), message: Type.String() });

const HistoryQuery = Type.Object(
  {
    hours: Type.Integer({ minimum: 1, maximum: 9600, default: 24 }),
    key: Type.Optional(Type.String({ pattern: '^[a-z0-9:_-]{1,40}$' })),
    resolution: Type.Optional(Type.Union([Type.Literal('minute'), Type.Literal('hour')])),
  },
  { additionalProperties: false },
);

const HistoryRow = Type.Object({
  t: Type.Number(),
  key: Type.String(),
  n: Type.Integer(),
  ok: Type.Integer(),
  loss_pct: Nullable(Type.Number()),
  rtt_avg_ms: Nullable(Type.Number()),
  rtt_max_ms: Nullable(Type.Number()),
  up_ms: Type.Integer(),
  degraded_ms: Type.Integer(),
  down_ms: Type.Integer(),
  unknown_ms: Type.Integer(),
});

const HistoryReply = Type.Object({
  hours: Type.Integer(),
  resolution: Type.String(),
  from: Type.Number(),
  rows: Type.Array(HistoryRow),
});

const OutagesQuery = Type.Object(
  {
    limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
    before: Type.Optional(Type.Integer({ minimum: 1 })),
  },
  { additionalProperties: false },
);

const Outage = Type.Object({
  id: Type.Integer(),
  start: Type.String(),
  end: Type.Union([Type.String(), Type.Null()]),
  duration_s: Nullable(Type.Number()),
  fault_layer: Type.Union([Type.String(), Type.Null()]),
  loss_pct_before: Nullable(Type.Number()),
  rtt_ms_before: Nullable(Type.Number()),
  clock_synced: Type.Boolean(),
  interrupted: Type.Boolean(),
});

const OutagesReply = Type.Object({
  ongoing: Type.Union([
    Type.Object({ start: Type.String(), fault_layer: Type.Union([Type.String(), Type.Null()]) }),
    Type.Null(),
  ]),
  outages: Type.Array(Outage),
  /** Share of measured time up or degraded over the last 30 days, per `layer:<name>` and `link`. */
  uptime_30d: Type.Record(
    Type.String(),
    Type.Object({ up_pct: Nullable(Type.Number()), measured_ms: Type.Number() }),
  ),
});

/**
 * GET /api/v1/link/history and GET /api/v1/outages. Exported unmounted: the web module
 * registers it behind the technician session guard.
 */
export const uplinkRoutes: FastifyPluginAsyncTypebox<UplinkRoutesOptions> = async (app, opts) => {
  app.get(
    '/api/v1/link/history',
    { schema: { querystring: HistoryQuery, response: { 200: HistoryReply, 400: ErrorReply } } },
    async (request) => {
      const { hours, key } = request.query;
      const resolution = request.query.resolution ?? (hours <= 24 ? 'minute' : 'hour');
      // Minute rows of two days for every key are already ~30 000 rows: longer spans use hours.
      if (resolution === 'minute' && hours > 48)
        throw new GwError('GW_ERR_VALIDATION', 'minute resolution is limited to 48 hours');
      const from = opts.wallMs() - hours * HOUR_MS;
      const rows = opts.history.series(resolution, from, key).map((r) => ({
        t: r.t,
        key: r.key,
        n: r.n,
        ok: r.ok,
        loss_pct: r.sent > 0 ? Math.round((r.lost / r.sent) * 1000) / 10 : null,
        rtt_avg_ms: r.rtt_n > 0 ? Math.round((r.rtt_sum / r.rtt_n) * 10) / 10 : null,
        rtt_max_ms: r.rtt_max,
        up_ms: r.up_ms,
        degraded_ms: r.degraded_ms,
        down_ms: r.down_ms,
        unknown_ms: r.unknown_ms,
      }));
      return { hours, resolution, from, rows };
    },
  );

  app.get(
    '/api/v1/outages',
    { schema: { querystring: OutagesQuery, response: { 200: OutagesReply, 400: ErrorReply } } },
    async (request) => {
      const now = opts.wallMs();
      return {
        ongoing: opts.link().outage,
        outages: opts.outages.list(request.query.limit, request.query.before),
        uptime_30d: opts.history.uptime(now - 30 * 24 * HOUR_MS, now),
      };
    },
  );
};
