import type { App } from '../app.js';
import { wibDay } from '../core/wib.js';
import { ChangesRepo } from '../devices/changes-repo.js';
import { HealthHourRepo } from '../system/health-hours.js';
import { WritesRepo } from '../system/writes-repo.js';
import { HistoryRepo } from '../uplink/history-repo.js';
import { OutageRepo } from '../uplink/outage-repo.js';
import type { RollupRow } from '../uplink/rollup.js';
import { ThroughputRepo } from '../uplink/throughput-repo.js';

const H = 3_600_000;

/** Where the seeded week has its marks (wall ms): ISP cuts of an hour, an undervoltage hour. */
export interface HistoryMarks {
  cuts: number[];
  undervoltageHour: number;
}

/** Two ISP cuts at 18:00 WIB, three and two evenings ago; undervoltage at 12:00 WIB yesterday. */
function defaultMarks(now: number): HistoryMarks {
  const day = 24 * H;
  // 18:00 WIB is 11:00 UTC; the WIB day starts at 17:00 UTC the day before.
  const evening = (daysAgo: number) => Math.floor((now - daysAgo * day - 11 * H) / day) * day + 11 * H;
  return { cuts: [evening(3), evening(2)], undervoltageHour: evening(1) - 6 * H };
}

/**
 * A week of history for the page's charts, so the demo does not open on empty charts (and
 * the chart tests run on the same data): written through the modules' own repositories and
 * measured from the app's clock. Two ISP cuts of an hour in the evening, 30 minutes of
 * unsynced clock two hours ago, three throughput tests (one failed), hourly box health with
 * one hour of undervoltage, the write ledger, and a kiosk that went offline for an afternoon.
 * The seeded outages are history only: they are not reported to the regency.
 */
export function seedDemoHistory(app: App, marks: Partial<HistoryMarks> = {}): HistoryMarks {
  const clock = app.deps.clock;
  const db = () => app.deps.store.db;
  const now = Math.floor(clock.wallMs() / 60_000) * 60_000;
  const m = { ...defaultMarks(now), ...marks };
  const CUTS = m.cuts;
  const UNDERVOLTAGE_HOUR = m.undervoltageHour;
  const history = new HistoryRepo({ db });
  const rows: RollupRow[] = [];
  const row = (t: number, key: string, down: boolean, rtt: number | null): RollupRow => ({
    t,
    key,
    n: 60,
    ok: down ? 0 : 60,
    sent: rtt === null ? 0 : 60,
    lost: down && rtt !== null ? 60 : 0,
    rtt_sum: rtt === null || down ? 0 : rtt * 60,
    rtt_n: rtt === null || down ? 0 : 60,
    rtt_max: rtt === null || down ? null : rtt,
    up_ms: down ? 0 : 600_000,
    degraded_ms: 0,
    down_ms: down ? 600_000 : 0,
    unknown_ms: 0,
  });
  let i = 0;
  for (let t = now - 8 * 24 * H; t < now; t += 10 * 60_000, i++) {
    const cut = CUTS.some((c) => t >= c && t < c + H);
    rows.push(row(t, 'layer:lan', false, 1.2 + 0.4 * Math.sin(i / 9)));
    rows.push(row(t, 'layer:isp', cut, 8 + 3 * Math.sin(i / 9)));
    rows.push(row(t, 'layer:internet', cut, 35 + 10 * Math.sin(i / 7)));
    rows.push(row(t, 'link', cut, null));
  }
  const outages = new OutageRepo({ db, clock });
  app.deps.store.batch(() => {
    history.addMinutes(rows);
    history.rollupHours(now - 9 * 24 * H, Math.floor(now / H) * H);
    history.insertRaw([
      {
        probe: 'router',
        layer: 'lan',
        start_wall: now - 2 * H,
        end_wall: now - 2 * H + 30 * 60_000,
        clock_synced: false,
        rounds: [[0, 'ok', 1.1]],
        extra: {},
      },
    ]);
  });
  for (const start of CUTS) {
    const id = outages.open({ wall: start, mono: 0 }, 'isp', 0, 8);
    outages.close(id, {
      start: { wall: start, mono: 0 },
      end: { wall: start + H, mono: H },
      duration_ms: H,
      fault_layer: 'isp',
      loss_pct_before: 0,
      rtt_ms_before: 8,
    });
  }
  const tp = new ThroughputRepo({ db });
  tp.add({ at: new Date(now - 5 * 24 * H).toISOString(), bytes: 5e6, mbps: 18.4, error: null });
  tp.add({ at: new Date(now - 3 * 24 * H).toISOString(), bytes: 0, mbps: 0, error: 'HTTP 503' });
  tp.add({ at: new Date(now - 1 * 24 * H).toISOString(), bytes: 5e6, mbps: 9.7, error: null });

  const health = new HealthHourRepo({ db });
  const writes = new WritesRepo({ db });
  for (let t = Math.floor(now / H) * H - 7 * 24 * H; t < now - H; t += H) {
    const hourOfDay = new Date(t + 7 * H).getUTCHours();
    const temp = 48 + 10 * Math.sin(((hourOfDay - 8) / 24) * 2 * Math.PI);
    health.add({
      t,
      n: 120,
      temp_sum: temp * 120,
      temp_n: 120,
      temp_max: Math.round((temp + 2) * 10) / 10,
      mem_max: 41 + (hourOfDay % 5),
      disk_max: 23.5,
      undervoltage_n: t === UNDERVOLTAGE_HOUR ? 14 : 0,
      throttled_n: t === UNDERVOLTAGE_HOUR ? 3 : 0,
    });
  }
  for (let d = 6; d >= 1; d--) writes.put(wibDay(now - d * 24 * H), (9 + d) * 1024 * 1024, now);

  const changes = new ChangesRepo({ db, clock });
  changes.add([{ deviceId: 'adm-1', state: 'online', reason: null }], now - 6 * 24 * H);
  changes.add([{ deviceId: 'adm-1', state: 'offline', reason: 'heartbeat_timeout' }], now - 3 * 24 * H);
  changes.add([{ deviceId: 'adm-1', state: 'online', reason: null }], now - 3 * 24 * H + 5 * H);
  return m;
}
