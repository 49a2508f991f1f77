import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/tmp.js';
import { CUTS, H, seedCharts, UNDERVOLTAGE_HOUR } from './chart-seed.js';
import { ensurePageBuilt } from './ensure-page.js';
import { FakeClock, type Harness, sessionCookie, startHarness } from './harness.js';

const TOKEN = 'chart-routes-kiosk-token-0123456789abcdef';
// Saturday 28 November 2026, 10:01:30 WIB: every window below is measured from this clock.
const clock = new FakeClock({ wall: Date.parse('2026-11-28T03:01:30Z') });

describe('chart routes: aggregated on the box, behind the session', () => {
  const dir = tempDir('kgw-charts-');
  let h: Harness;
  let cookie = '';
  const get = (url: string, auth = true) =>
    h.app.server.inject({ method: 'GET', url, headers: auth ? { cookie } : {} });

  beforeAll(async () => {
    ensurePageBuilt();
    const tokenFile = join(dir.path, 'adm-1.token');
    writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
    h = await startHarness(dir.path, {
      clock,
      config: {
        devices: [
          { id: 'adm-1', name: 'Anjungan 1', kind: 'kiosk', token_file: tokenFile, heartbeat_timeout_s: 300 },
        ],
      },
    });
    seedCharts(h);
    const events = Array.from({ length: 3 }, (_, i) => ({
      id: `0b6f1d2e-1c3a-4b5d-8e9f-00000000001${i}`,
      type: 'service_use',
      service: 'ktp-el',
    }));
    const pushed = await h.app.server.inject({
      method: 'POST',
      url: '/api/v1/devices/adm-1/events',
      headers: { authorization: `Bearer ${TOKEN}` },
      payload: { events },
    });
    expect(pushed.statusCode).toBe(202);
    const res = await h.app.server.inject({
      method: 'POST',
      url: '/api/v1/setup',
      headers: { origin: h.origin },
      payload: { code: h.setupCode(), name: 'ana', password: 'password-charts' },
    });
    expect(res.statusCode).toBe(201);
    cookie = sessionCookie(res.headers['set-cookie']);
  });
  afterAll(async () => {
    await h?.stop();
    dir.cleanup();
  });

  it('answers 401 without a session and 400 for an unknown range', async () => {
    for (const url of [
      '/api/v1/charts/link',
      '/api/v1/charts/link-patterns',
      '/api/v1/charts/system',
      '/api/v1/charts/devices',
    ])
      expect((await get(url, false)).statusCode).toBe(401);
    const bad = await get('/api/v1/charts/link?range=1y');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toBe('GW_ERR_VALIDATION');
  });

  it('24 h: 96 WIB quarter-hours per layer, the unsynced half hour, ending now', async () => {
    const d = (await get('/api/v1/charts/link?range=24h')).json();
    expect(d.t).toHaveLength(96);
    expect(d.step_s).toBe(900);
    expect(d.to).toBe(new Date(clock.wall).toISOString());
    expect(d.layers.map((l: { layer: string }) => l.layer)).toEqual(['lan', 'isp', 'internet']);
    for (const l of d.layers) expect(l.loss_pct).toHaveLength(96);
    expect(d.unsynced).toHaveLength(1);
    const u = d.unsynced[0];
    expect(Date.parse(u.end) - Date.parse(u.start)).toBe(30 * 60_000);
    expect(d.outages).toEqual([]);
  });

  it('7 d: the evening cuts are 100 % loss on the ISP layer, shaded as ISP outages', async () => {
    const d = (await get('/api/v1/charts/link?range=7d')).json();
    expect(d.t).toHaveLength(84);
    const isp = d.layers.find((l: { layer: string }) => l.layer === 'isp');
    const lan = d.layers.find((l: { layer: string }) => l.layer === 'lan');
    for (const cut of CUTS) {
      // 2-hour buckets on WIB boundaries: 18:00 WIB starts one.
      const i = d.t.indexOf(cut);
      expect(i).toBeGreaterThan(0);
      expect(isp.loss_pct[i]).toBe(50); // one hour down in a two-hour bucket
      expect(isp.down_s[i]).toBe(3600);
      expect(lan.loss_pct[i]).toBe(0);
      expect(d.link.down_s[i]).toBe(3600);
    }
    expect(d.outages.map((o: { fault_layer: string }) => o.fault_layer)).toEqual(['isp', 'isp']);
    expect(d.throughput.map((r: { mbps: number }) => r.mbps)).toEqual([18.4, 0, 9.7]);
    expect(d.throughput[1].error).toBe('HTTP 503');
  });

  it('30 d: 120 six-hour points, and the phone gets tens of points, not thousands', async () => {
    const res = await get('/api/v1/charts/link?range=30d');
    const d = res.json();
    expect(d.t).toHaveLength(120);
    expect(res.body.length).toBeLessThan(40_000);
  });

  it('patterns: the evening cuts show in the heat map at 18:00 and lower those days in the calendar', async () => {
    const p = (await get('/api/v1/charts/link-patterns')).json();
    expect(p.calendar).toHaveLength(30);
    expect(p.calendar[29].day).toBe('2026-11-28');
    const day = (d: string) => p.calendar.find((c: { day: string }) => c.day === d);
    expect(day('2026-11-25').up_pct).toBeCloseTo((23 / 24) * 100, 1);
    expect(day('2026-11-25').down_min).toBe(60);
    expect(day('2026-11-27').up_pct).toBe(100);
    expect(day('2026-11-01').up_pct).toBeNull(); // before the seeded history
    expect(p.heat.days).toBe(28);
    // Row 0 is Monday: Wednesday 2 and Thursday 3, hour 18 WIB.
    expect(p.heat.down_min[2][18]).toBe(60);
    expect(p.heat.down_min[3][18]).toBe(60);
    const total = p.heat.down_min.flat().reduce((a: number, b: number) => a + b, 0);
    expect(total).toBe(120);
  });

  it('system: a week of hourly health and the writes per day against the budget', async () => {
    const d = (await get('/api/v1/charts/system')).json();
    expect(d.t).toHaveLength(168);
    const i = d.t.indexOf(UNDERVOLTAGE_HOUR);
    expect(i).toBeGreaterThan(0);
    expect(d.undervoltage[i]).toBe(14);
    expect(d.undervoltage.reduce((a: number, b: number) => a + b, 0)).toBe(14);
    expect(d.temperature_c_max.filter((v: number | null) => v !== null).length).toBeGreaterThan(150);
    expect(d.writes).toHaveLength(7);
    expect(d.writes[5]).toEqual({ day: '2026-11-27', mb: 10 });
    expect(d.writes[6].day).toBe('2026-11-28');
    expect(d.write_budget_mb).toBe(100);
  });

  it('devices: each device as back-to-back states over 7 days, usage per service per WIB day', async () => {
    const d = (await get('/api/v1/charts/devices?days=7')).json();
    const adm = d.devices.find((x: { id: string }) => x.id === 'adm-1');
    expect(adm.segments[0].start).toBe(d.from);
    expect(adm.segments.at(-1).end).toBe(d.to);
    const off = adm.segments.filter((s: { state: string }) => s.state === 'offline');
    expect(off).toHaveLength(1);
    expect(Date.parse(off[0].end) - Date.parse(off[0].start)).toBe(5 * H);
    expect(d.days).toHaveLength(7);
    expect(d.days[6]).toBe('2026-11-28');
    expect(d.usage).toEqual([{ service: 'ktp-el', counts: [0, 0, 0, 0, 0, 0, 3] }]);
  });
});
