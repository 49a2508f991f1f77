import { type FastifyPluginAsyncTypebox, Type } from '@fastify/type-provider-typebox';
import { WIB_OFFSET_MS, wibDay } from '../core/wib.js';
import type { DeviceState } from '../status/types.js';
import type { StateChange } from './changes-repo.js';
import type { DeviceTechRoutesOptions } from './tech-routes.js';

const DAY_MS = 86_400_000;
const State = Type.Union(['online', 'degraded', 'offline', 'unknown'].map((s) => Type.Literal(s)));

const TimelineQuery = Type.Object(
  { days: Type.Integer({ minimum: 1, maximum: 31, default: 7 }) },
  { additionalProperties: false },
);
const TimelineReply = Type.Object({
  from: Type.String(),
  to: Type.String(),
  /** The WIB days the usage counts cover, oldest first; the last is today. */
  days: Type.Array(Type.String()),
  /** Service uses per WIB day (all devices), one count per entry of `days`. */
  usage: Type.Array(Type.Object({ service: Type.String(), counts: Type.Array(Type.Integer()) })),
  devices: Type.Array(
    Type.Object({
      id: Type.String(),
      name: Type.String(),
      /** Back to back from `from` to `to`; `unknown` before the first known state. */
      segments: Type.Array(Type.Object({ start: Type.String(), end: Type.String(), state: State })),
    }),
  ),
});

/** The change log as back-to-back periods of one state within [from, to). */
export function segments(
  log: readonly StateChange[],
  from: number,
  to: number,
): Array<{ start: number; end: number; state: DeviceState }> {
  const out: Array<{ start: number; end: number; state: DeviceState }> = [];
  let state: DeviceState = 'unknown';
  let cursor = from;
  const push = (end: number) => {
    if (end <= cursor) return;
    const last = out[out.length - 1];
    if (last && last.state === state) last.end = end;
    else out.push({ start: cursor, end, state });
    cursor = end;
  };
  for (const ch of log) {
    if (ch.at_wall > from) push(Math.min(ch.at_wall, to));
    state = ch.state;
  }
  push(to);
  return out;
}

/** GET /api/v1/charts/devices: every device's states over the last days, for one strip each. */
export const deviceTimelineRoutes: FastifyPluginAsyncTypebox<DeviceTechRoutesOptions> = async (app, opts) => {
  app.get(
    '/api/v1/charts/devices',
    { schema: { querystring: TimelineQuery, response: { 200: TimelineReply } } },
    async (request) => {
      const now = opts.clock.wallMs();
      const from = now - request.query.days * DAY_MS;
      const iso = (ms: number) => new Date(ms).toISOString();
      const n = request.query.days;
      const today = Math.floor((now + WIB_OFFSET_MS) / DAY_MS);
      const usageFrom = (today - n + 1) * DAY_MS - WIB_OFFSET_MS;
      const days = Array.from({ length: n }, (_, i) => wibDay(usageFrom + i * DAY_MS));
      // Hourly counts folded into WIB days here: the usage table's day buckets are UTC days.
      const usage = new Map<string, number[]>();
      for (const c of opts.usage.counts(usageFrom, now + 1, 'hour')) {
        const i = Math.floor((Date.parse(c.start) - usageFrom) / DAY_MS);
        if (i < 0 || i >= n) continue;
        let row = usage.get(c.service);
        if (!row) {
          row = days.map(() => 0);
          usage.set(c.service, row);
        }
        row[i] = (row[i] ?? 0) + c.count;
      }
      return {
        from: iso(from),
        to: iso(now),
        days,
        usage: [...usage].map(([service, counts]) => ({ service, counts })),
        devices: opts.monitor.statuses().map((d) => ({
          id: d.id,
          name: d.name,
          segments: segments(opts.changes.window(d.id, from, now + 1), from, now).map((s) => ({
            start: iso(s.start),
            end: iso(s.end),
            state: s.state,
          })),
        })),
      };
    },
  );
};
