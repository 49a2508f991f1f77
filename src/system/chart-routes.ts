import { type FastifyPluginAsyncTypebox, Type } from '@fastify/type-provider-typebox';
import { wibDay } from '../core/wib.js';
import type { HealthHour, HealthHourRepo } from './health-hours.js';
import type { WritesRepo } from './writes-repo.js';

export interface SystemChartRoutesOptions {
  hours: HealthHourRepo;
  running(): HealthHour | null;
  writes: WritesRepo;
  /** Today's bytes written and the daily budget, as the status section has them. */
  writesToday(): { written_today_mb: number | null; write_budget_mb: number };
  wallMs(): number;
}

const HOUR_MS = 3_600_000;
const DAYS = 7;
const MB = 1024 * 1024;
const Num = Type.Union([Type.Number(), Type.Null()]);

const SystemChartReply = Type.Object({
  from: Type.String(),
  to: Type.String(),
  step_s: Type.Integer(),
  /** Hour starts, epoch ms, oldest first (168); every series has one entry per hour, null = no reading. */
  t: Type.Array(Type.Number()),
  temperature_c_max: Type.Array(Num),
  temperature_c_avg: Type.Array(Num),
  memory_pct_max: Type.Array(Num),
  disk_pct_max: Type.Array(Num),
  /** Readings that saw undervoltage / any throttling in that hour (0 where none or no reading). */
  undervoltage: Type.Array(Type.Integer()),
  throttled: Type.Array(Type.Integer()),
  /** Bytes the daemon wrote per WIB day, oldest first (the last is today). */
  writes: Type.Array(Type.Object({ day: Type.String(), mb: Num })),
  written_today_mb: Num,
  write_budget_mb: Type.Number(),
});

/** GET /api/v1/charts/system: a week of box health per hour and the storage writes per day. */
export const systemChartRoutes: FastifyPluginAsyncTypebox<SystemChartRoutesOptions> = async (app, opts) => {
  app.get('/api/v1/charts/system', { schema: { response: { 200: SystemChartReply } } }, async () => {
    const now = opts.wallMs();
    const last = Math.floor(now / HOUR_MS) * HOUR_MS;
    const first = last - (DAYS * 24 - 1) * HOUR_MS;
    const byHour = new Map(opts.hours.since(first).map((h) => [h.t, h]));
    const running = opts.running();
    if (running && running.t >= first) byHour.set(running.t, running);
    const t = Array.from({ length: DAYS * 24 }, (_, i) => first + i * HOUR_MS);
    const col = <T>(f: (h: HealthHour) => T, none: T) =>
      t.map((x) => {
        const h = byHour.get(x);
        return h ? f(h) : none;
      });
    const round1 = (v: number) => Math.round(v * 10) / 10;
    const today = opts.writesToday();
    const ledger = new Map(opts.writes.recent(DAYS + 1).map((r) => [r.day, r.write_bytes]));
    const writes = Array.from({ length: DAYS }, (_, i) => {
      const day = wibDay(now - (DAYS - 1 - i) * 24 * HOUR_MS);
      const bytes = ledger.get(day);
      return { day, mb: bytes === undefined ? null : round1(bytes / MB) };
    });
    const todayRow = writes[writes.length - 1];
    if (todayRow && today.written_today_mb !== null) todayRow.mb = today.written_today_mb;
    return {
      from: new Date(first).toISOString(),
      to: new Date(now).toISOString(),
      step_s: 3600,
      t,
      temperature_c_max: col((h) => h.temp_max, null),
      temperature_c_avg: col((h) => (h.temp_n > 0 ? round1(h.temp_sum / h.temp_n) : null), null),
      memory_pct_max: col((h) => h.mem_max, null),
      disk_pct_max: col((h) => h.disk_max, null),
      undervoltage: col((h) => h.undervoltage_n, 0),
      throttled: col((h) => h.throttled_n, 0),
      writes,
      written_today_mb: today.written_today_mb,
      write_budget_mb: today.write_budget_mb,
    };
  });
};
