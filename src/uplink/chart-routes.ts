import { type FastifyPluginAsyncTypebox, Type } from '@fastify/type-provider-typebox';
import { WIB_OFFSET_MS, wibDay } from '../core/wib.js';
import { LAYERS } from '../status/types.js';
import type { BucketRow, ChartRepo } from './chart-repo.js';
import { HOUR_MS, MINUTE_MS } from './rollup.js';
import type { ThroughputRepo } from './throughput-repo.js';

export interface UplinkChartRoutesOptions {
  charts: ChartRepo;
  throughputs: ThroughputRepo;
  wallMs(): number;
}

const DAY_MS = 24 * HOUR_MS;
/** Range → bucket: 96, 84 and 120 points, what a 360 px phone can draw legibly. */
const RANGES = {
  '24h': { span: DAY_MS, step: 15 * MINUTE_MS },
  '7d': { span: 7 * DAY_MS, step: 2 * HOUR_MS },
  '30d': { span: 30 * DAY_MS, step: 6 * HOUR_MS },
} as const;
/** Four of each weekday, so every row of the heat map counts the same number of days. */
const HEAT_DAYS = 28;
const CALENDAR_DAYS = 30;

const Num = Type.Union([Type.Number(), Type.Null()]);
const States = {
  down_s: Type.Array(Type.Integer()),
  degraded_s: Type.Array(Type.Integer()),
  measured_s: Type.Array(Type.Integer()),
};
const Span = Type.Object({ start: Type.String(), end: Type.String() });

const LinkChartQuery = Type.Object(
  { range: Type.Union([Type.Literal('24h'), Type.Literal('7d'), Type.Literal('30d')], { default: '24h' }) },
  { additionalProperties: false },
);
const LinkChartReply = Type.Object({
  range: Type.String(),
  from: Type.String(),
  to: Type.String(),
  step_s: Type.Integer(),
  /** Bucket starts, epoch ms, oldest first; every array below has one entry per bucket. */
  t: Type.Array(Type.Number()),
  link: Type.Object(States),
  /** Per layer with data, lowest first. */
  layers: Type.Array(
    Type.Object({
      layer: Type.String(),
      loss_pct: Type.Array(Num),
      rtt_ms: Type.Array(Num),
      ...States,
    }),
  ),
  outages: Type.Array(
    Type.Object({
      start: Type.String(),
      end: Type.String(),
      fault_layer: Type.Union([Type.String(), Type.Null()]),
      clock_synced: Type.Boolean(),
      ongoing: Type.Boolean(),
    }),
  ),
  unsynced: Type.Array(Span),
  throughput: Type.Array(
    Type.Object({
      at: Type.String(),
      mbps: Type.Number(),
      bytes: Type.Integer(),
      error: Type.Union([Type.String(), Type.Null()]),
    }),
  ),
});

const PatternsReply = Type.Object({
  /** The last 30 WIB days, oldest first; `up_pct` null where nothing was measured. */
  calendar: Type.Array(Type.Object({ day: Type.String(), up_pct: Num, down_min: Type.Integer() })),
  heat: Type.Object({
    from: Type.String(),
    to: Type.String(),
    days: Type.Integer(),
    /** Minutes the link was down, [weekday 0 = Monday][hour 0–23 WIB], summed over the days. */
    down_min: Type.Array(Type.Array(Type.Integer())),
  }),
});

const iso = (ms: number) => new Date(ms).toISOString();
const sec = (ms: number) => Math.round(ms / 1000);

/** Groups bucket rows into one column per key, aligned on `t`. */
function columns(rows: BucketRow[], t: number[]) {
  const index = new Map(t.map((b, i) => [b, i]));
  const keys = new Map<string, Array<BucketRow | null>>();
  for (const r of rows) {
    const i = index.get(r.b);
    if (i === undefined) continue;
    let col = keys.get(r.key);
    if (!col) {
      col = t.map(() => null);
      keys.set(r.key, col);
    }
    col[i] = r;
  }
  return keys;
}

function states(col: Array<BucketRow | null>) {
  return {
    down_s: col.map((r) => (r ? sec(r.down_ms) : 0)),
    degraded_s: col.map((r) => (r ? sec(r.degraded_ms) : 0)),
    measured_s: col.map((r) => (r ? sec(r.up_ms + r.degraded_ms + r.down_ms) : 0)),
  };
}

/**
 * GET /api/v1/charts/link (loss, RTT and state per layer on one time axis, with outages,
 * unsynced periods and throughput results) and GET /api/v1/charts/link-patterns (availability
 * per day, down minutes per weekday × hour). Summed on the box: the page gets points, not rows.
 */
export const uplinkChartRoutes: FastifyPluginAsyncTypebox<UplinkChartRoutesOptions> = async (app, opts) => {
  app.get(
    '/api/v1/charts/link',
    { schema: { querystring: LinkChartQuery, response: { 200: LinkChartReply } } },
    async (request) => {
      const range = request.query.range;
      const { span, step } = RANGES[range];
      const now = opts.wallMs();
      const last = Math.floor((now + WIB_OFFSET_MS) / step) * step - WIB_OFFSET_MS;
      const count = span / step;
      const first = last - (count - 1) * step;
      const t = Array.from({ length: count }, (_, i) => first + i * step);
      const cols = columns(opts.charts.buckets(first, last + step, step, now), t);
      const empty = t.map(() => null);
      const layers = LAYERS.filter((l) => cols.has(`layer:${l}`)).map((layer) => {
        const col = cols.get(`layer:${layer}`) ?? empty;
        return {
          layer,
          loss_pct: col.map((r) => (r && r.sent > 0 ? Math.round((r.lost / r.sent) * 1000) / 10 : null)),
          rtt_ms: col.map((r) => (r && r.rtt_n > 0 ? Math.round((r.rtt_sum / r.rtt_n) * 10) / 10 : null)),
          ...states(col),
        };
      });
      return {
        range,
        from: iso(first),
        to: iso(now),
        step_s: step / 1000,
        t,
        link: states(cols.get('link') ?? empty),
        layers,
        outages: opts.charts.outages(first, now).map((o) => ({ ...o, start: iso(o.start), end: iso(o.end) })),
        unsynced: opts.charts.unsynced(first).map((s) => ({ start: iso(s.start), end: iso(s.end) })),
        throughput: opts.throughputs.since(first),
      };
    },
  );

  app.get('/api/v1/charts/link-patterns', { schema: { response: { 200: PatternsReply } } }, async () => {
    const now = opts.wallMs();
    const today = Math.floor((now + WIB_OFFSET_MS) / DAY_MS);
    const dayStart = (d: number) => d * DAY_MS - WIB_OFFSET_MS;
    const calFrom = dayStart(today - CALENDAR_DAYS + 1);
    const byDay = new Map(opts.charts.days(calFrom, now + 1, now).map((r) => [r.day, r]));
    const calendar = Array.from({ length: CALENDAR_DAYS }, (_, i) => {
      const d = today - CALENDAR_DAYS + 1 + i;
      const r = byDay.get(d);
      const measured = r ? r.good + r.down : 0;
      return {
        day: wibDay(dayStart(d)),
        up_pct: r && measured > 0 ? Math.round((r.good / measured) * 10_000) / 100 : null,
        down_min: r ? Math.round(r.down / MINUTE_MS) : 0,
      };
    });
    const heatFrom = dayStart(today - HEAT_DAYS + 1);
    const down = Array.from({ length: 7 }, () => Array.from({ length: 24 }, () => 0));
    for (const c of opts.charts.weekHours(heatFrom, now + 1, now)) {
      const row = down[c.wd];
      if (row) row[c.hr] = Math.round(c.down / MINUTE_MS);
    }
    return { calendar, heat: { from: iso(heatFrom), to: iso(now), days: HEAT_DAYS, down_min: down } };
  });
};
