import { type FastifyPluginAsyncTypebox, Type } from '@fastify/type-provider-typebox';
import type { Clock } from '../core/clock.js';
import { GwError } from '../core/errors.js';
import { availability, buckets, type Period } from './availability.js';
import type { ChangesRepo } from './changes-repo.js';
import type { DeviceMonitor } from './device-monitor.js';
import { DeviceParams, ErrorReply, TelemetrySchema } from './push-schemas.js';
import type { UsageRepo } from './usage-repo.js';

export interface DeviceTechRoutesOptions {
  monitor: Pick<DeviceMonitor, 'statuses' | 'view'>;
  changes: ChangesRepo;
  usage: UsageRepo;
  clock: Clock;
}

const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);
const State = Type.Union(['online', 'degraded', 'offline', 'unknown'].map((s) => Type.Literal(s)));
const DeviceSummary = Type.Object({
  id: Type.String(),
  name: Type.String(),
  kind: Type.String(),
  state: State,
  since: Nullable(Type.String()),
  reason: Nullable(Type.String()),
  last_heartbeat: Nullable(Type.String()),
  availability_24h_pct: Type.Union([Type.Number(), Type.Null()]),
});
const AvailabilityRow = Type.Object({
  start: Type.String(),
  pct: Type.Union([Type.Number(), Type.Null()]),
  online_s: Type.Integer(),
  degraded_s: Type.Integer(),
  offline_s: Type.Integer(),
  unknown_s: Type.Integer(),
});
const DeviceDetail = Type.Object({
  ...DeviceSummary.properties,
  app_version: Nullable(Type.String()),
  uptime_s: Type.Union([Type.Number(), Type.Null()]),
  telemetry: Type.Union([TelemetrySchema, Type.Null()]),
  errors: Type.Union([
    Type.Array(
      Type.Object({
        code: Type.String(),
        message: Type.Optional(Type.String()),
        at: Type.Optional(Type.String()),
      }),
    ),
    Type.Null(),
  ]),
  checks: Type.Array(
    Type.Object({ label: Type.String(), state: Type.String(), problem: Nullable(Type.String()) }),
  ),
  availability: Type.Object({
    hours: Type.Array(AvailabilityRow),
    days: Type.Array(AvailabilityRow),
    months: Type.Array(AvailabilityRow),
  }),
  changes: Type.Array(Type.Object({ state: State, reason: Nullable(Type.String()), at: Type.String() })),
});

const DATE = '^\\d{4}-\\d{2}-\\d{2}(T\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,3})?)?(Z|[+-]\\d{2}:\\d{2})?)?$';
const UsageQuery = Type.Object(
  {
    from: Type.Optional(Type.String({ pattern: DATE })),
    to: Type.Optional(Type.String({ pattern: DATE })),
    /** The last N days up to `to` (default: now by the box's clock), instead of `from`. */
    days: Type.Optional(Type.Integer({ minimum: 1, maximum: 400 })),
    bucket: Type.Optional(Type.Union([Type.Literal('hour'), Type.Literal('day'), Type.Literal('month')])),
  },
  { additionalProperties: false },
);
const UsageCountRow = Type.Object({
  device_id: Type.String(),
  service: Type.String(),
  start: Type.String(),
  count: Type.Integer(),
});
const UsageReply = Type.Object({
  from: Type.String(),
  to: Type.String(),
  bucket: Type.String(),
  counts: Type.Array(UsageCountRow),
  totals: Type.Array(
    Type.Object({ device_id: Type.String(), service: Type.String(), count: Type.Integer() }),
  ),
});

const DAY_MS = 86_400_000;
const MAX_RANGE_MS = 400 * DAY_MS;

/**
 * Technician routes for devices and usage. Not registered publicly: the web module mounts
 * this plugin inside its authenticated scope with the repos as options.
 */
export const deviceTechRoutes: FastifyPluginAsyncTypebox<DeviceTechRoutesOptions> = async (app, opts) => {
  const series = (id: string, period: Period, count: number, now: number) => {
    const ranges = buckets(period, count, now);
    const first = ranges[0]?.[0] ?? now;
    const log = opts.changes.window(id, first, now + 1);
    return ranges.map(([from, to]) => availability(log, from, to, now));
  };

  app.get('/api/v1/devices', { schema: { response: { 200: Type.Array(DeviceSummary) } } }, async () => {
    const now = opts.clock.wallMs();
    return opts.monitor.statuses().map((s) => {
      const log = opts.changes.window(s.id, now - DAY_MS, now + 1);
      return { ...s, availability_24h_pct: availability(log, now - DAY_MS, now, now).pct };
    });
  });

  app.get(
    '/api/v1/devices/:id',
    { schema: { params: DeviceParams, response: { 200: DeviceDetail, 404: ErrorReply } } },
    async (request) => {
      const view = opts.monitor.view(request.params.id);
      if (!view) throw new GwError('GW_ERR_NOT_FOUND', 'unknown device');
      const now = opts.clock.wallMs();
      const day = availability(opts.changes.window(view.id, now - DAY_MS, now + 1), now - DAY_MS, now, now);
      return {
        ...view,
        availability_24h_pct: day.pct,
        availability: {
          hours: series(view.id, 'hour', 24, now),
          days: series(view.id, 'day', 31, now),
          months: series(view.id, 'month', 12, now),
        },
        changes: opts.changes
          .recent(view.id, 20)
          .map((c) => ({ state: c.state, reason: c.reason, at: new Date(c.at_wall).toISOString() })),
      };
    },
  );

  app.get(
    '/api/v1/usage',
    { schema: { querystring: UsageQuery, response: { 200: UsageReply, 400: ErrorReply } } },
    async (request) => {
      const now = opts.clock.wallMs();
      const to = request.query.to ? Date.parse(request.query.to) : now;
      if (request.query.from && request.query.days) {
        throw new GwError('GW_ERR_VALIDATION', 'give from or days, not both');
      }
      const from = request.query.from
        ? Date.parse(request.query.from)
        : to - (request.query.days ?? 1) * DAY_MS;
      if (!Number.isFinite(from) || !Number.isFinite(to) || from >= to || to - from > MAX_RANGE_MS) {
        throw new GwError('GW_ERR_VALIDATION', 'from must be before to, at most 400 days apart');
      }
      const bucket = request.query.bucket ?? (to - from <= 2 * DAY_MS ? 'hour' : 'day');
      const counts = opts.usage.counts(from, to, bucket);
      const totals = new Map<string, { device_id: string; service: string; count: number }>();
      for (const c of counts) {
        const key = `${c.device_id}\u0000${c.service}`;
        const t = totals.get(key) ?? { device_id: c.device_id, service: c.service, count: 0 };
        t.count += c.count;
        totals.set(key, t);
      }
      return {
        from: new Date(from).toISOString(),
        to: new Date(to).toISOString(),
        bucket,
        counts,
        totals: [...totals.values()],
      };
    },
  );
};
