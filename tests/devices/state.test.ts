import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { SystemClock } from '../../src/core/clock.js';
import { KioskSim } from '../../src/sim/kiosk-sim.js';
import type { DeviceStatus } from '../../src/status/types.js';
import { readLiveSnapshot } from '../../src/store/live-snapshot.js';
import { waitFor } from '../helpers/net.js';
import { FakeClock, type Harness, harness, TOKENS } from './harness.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function withKiosk(deviceSpec: Record<string, unknown>) {
  const kiosk = new KioskSim({ gateway: 'http://127.0.0.1:1', deviceId: 'adm-1', token: '', heartbeatMs: 0 });
  await kiosk.startHealth();
  const h = await harness(
    [
      {
        id: 'adm-1',
        ...deviceSpec,
        checks: [{ type: 'http', url: kiosk.healthUrl, interval_s: 0.5, timeout_ms: 400 }],
      },
    ],
    {
      clock: new SystemClock(),
    },
  );
  await h.app.listen({ host: '127.0.0.1', port: 0 });
  const port = (h.app.server.address() as { port: number }).port;
  const sim = new KioskSim({
    gateway: `http://127.0.0.1:${port}`,
    deviceId: 'adm-1',
    token: TOKENS['adm-1'] ?? '',
    heartbeatMs: 0,
    healthPort: null,
  });
  const changes: DeviceStatus[] = [];
  h.bus.on('device.changed', (s) => changes.push(s));
  cleanups.push(async () => {
    await kiosk.stopHealth();
    await h.close();
  });
  const state = () => h.devices.monitor.statuses()[0] as DeviceStatus;
  return { kiosk, sim, h, changes, state };
}

describe('device state with real kiosk HTTP endpoints', () => {
  it('goes offline within its thresholds when the health endpoint stops, online again when it returns', async () => {
    const { kiosk, state, changes, h } = await withKiosk({ down_after: 2, up_after: 1 });
    await waitFor(() => state().state === 'online', 3000);
    expect(state().reason).toBe('checks ok');
    const t0 = performance.now();
    await kiosk.stopHealth();
    await waitFor(() => state().state === 'offline', 4000, 20);
    const took = performance.now() - t0;
    // 2 failed runs at 0.5 s (+ ≤ 50 ms jitter each): ≤ ~1.1 s, with margin for a busy box.
    expect(took).toBeLessThan(2500);
    expect(state().reason).toMatch(/^check http failed: (refused|unreachable|timeout)/);
    await kiosk.startHealth();
    await waitFor(() => state().state === 'online', 3000, 20);
    expect(changes.map((c) => c.state)).toEqual(['online', 'offline', 'online']);
    const log = h.devices.changes.recent('adm-1', 10).reverse();
    expect(log.map((c) => c.state)).toEqual(['unknown', 'online', 'offline', 'online']);
    expect(log[2]?.reason).toMatch(/check http failed/);
    // Kept for `kampung-gw status` in the live snapshot of the runtime directory.
    const saved = readLiveSnapshot(join(h.config.data_dir, 'run')).devices as
      | { value: DeviceStatus[] }
      | undefined;
    expect(saved?.value[0]).toMatchObject({ id: 'adm-1', state: 'online' });
  });

  it('a single failed check does not flap the state (hysteresis)', async () => {
    const { kiosk, state, changes } = await withKiosk({ down_after: 3, up_after: 2 });
    await waitFor(() => state().state === 'online', 3000);
    await kiosk.stopHealth();
    await new Promise((r) => setTimeout(r, 600));
    await kiosk.startHealth();
    await new Promise((r) => setTimeout(r, 1500));
    expect(changes.map((c) => c.state)).toEqual(['online']);
  });

  it('paper out → degraded, restored → online, silence → offline after the heartbeat timeout', async () => {
    const { sim, state, changes } = await withKiosk({ heartbeat_timeout_s: 1.5, down_after: 2 });
    expect(await sim.heartbeat()).toBe(204);
    await waitFor(() => state().state === 'online', 2000);
    sim.telemetry.paper = 'out';
    expect(await sim.heartbeat()).toBe(204);
    expect(state()).toMatchObject({ state: 'degraded', reason: 'paper out' });
    expect(state().last_heartbeat).not.toBeNull();
    sim.telemetry.paper = 'low';
    sim.telemetry.printer = 'error';
    await sim.heartbeat();
    expect(state()).toMatchObject({ state: 'degraded', reason: 'paper low, printer error' });
    sim.telemetry.paper = 'ok';
    sim.telemetry.printer = 'ok';
    sim.status = 'error';
    sim.errors = [{ code: 'APP_CRASH' }];
    await sim.heartbeat();
    expect(state()).toMatchObject({ state: 'degraded', reason: 'app error APP_CRASH' });
    sim.status = 'ok';
    await sim.heartbeat();
    expect(state()).toMatchObject({ state: 'online', reason: 'heartbeat ok' });
    const silentFrom = performance.now();
    await waitFor(() => state().state === 'offline', 4000, 20);
    const took = performance.now() - silentFrom;
    expect(took).toBeGreaterThan(1400);
    expect(took).toBeLessThan(2600);
    expect(state().reason).toBe('no heartbeat for 1.5 s');
    // The first "online" may come from the health check or the heartbeat, whichever ran first.
    const from = changes.findIndex((c) => c.state === 'degraded');
    expect(changes.slice(0, from).every((c) => c.state === 'online')).toBe(true);
    expect(changes.slice(from - 1).map((c) => `${c.state}: ${c.reason}`)).toEqual([
      'online: heartbeat ok',
      'degraded: paper out',
      'degraded: paper low, printer error',
      'degraded: app error APP_CRASH',
      'online: heartbeat ok',
      'offline: no heartbeat for 1.5 s',
    ]);
    // The degraded period started with "paper out", not with the last reason.
    expect(changes[from + 2]?.since).toBe(changes[from]?.since);
  });
});

describe('availability from the state-change log', () => {
  let h: Harness;
  afterAll(() => h?.close());

  it('matches a scripted timeline per hour, day and month', async () => {
    const T0 = Date.parse('2026-11-28T01:00:00Z');
    const clock = new FakeClock(T0);
    h = await harness([{ id: 'adm-1', heartbeat_timeout_s: 600 }], { clock });
    const m = h.devices.monitor;
    const at = (iso: string) => {
      const t = Date.parse(iso);
      clock.advance(t - clock.wall);
    };
    const ok = { telemetry: { paper: 'ok' as const } };
    m.heartbeat('adm-1', ok); // 01:00 online
    at('2026-11-28T01:15:00Z');
    m.heartbeat('adm-1', { telemetry: { paper: 'out' } }); // degraded
    at('2026-11-28T01:30:00Z');
    m.heartbeat('adm-1', ok); // online
    at('2026-11-28T01:34:59Z');
    m.heartbeat('adm-1', ok); // last heartbeat before the silence
    at('2026-11-28T01:45:00Z'); // 601 s of silence → offline at the next timeout tick
    m.reevaluateAll();
    expect(m.statuses()[0]?.state).toBe('offline');
    at('2026-11-28T01:50:00Z');
    m.heartbeat('adm-1', ok); // online
    at('2026-11-28T02:00:00Z');

    const r = await h.app.inject({ url: '/api/v1/devices/adm-1' });
    expect(r.statusCode).toBe(200);
    const a = r.json().availability;
    const hour = a.hours.find((x: { start: string }) => x.start === '2026-11-28T01:00:00.000Z');
    expect(hour).toEqual({
      start: '2026-11-28T01:00:00.000Z',
      pct: 91.67,
      online_s: 2400,
      degraded_s: 900,
      offline_s: 300,
      unknown_s: 0,
    });
    // The current hour (from 02:00) has no time yet; the hour before 01:00 is all unknown.
    expect(a.hours.at(-1)).toMatchObject({ pct: null, online_s: 0, unknown_s: 0 });
    expect(a.hours.at(-3)).toMatchObject({ start: '2026-11-28T00:00:00.000Z', pct: null, unknown_s: 3600 });
    const day = a.days.at(-1);
    expect(day).toMatchObject({ start: '2026-11-28T00:00:00.000Z', pct: 91.67, unknown_s: 3600 });
    expect(a.months.at(-1)).toMatchObject({ start: '2026-11-01T00:00:00.000Z', pct: 91.67 });
    expect(a.months).toHaveLength(12);
    expect(r.json().changes.map((c: { state: string }) => c.state)).toEqual([
      'online',
      'offline',
      'online',
      'degraded',
      'online',
      'unknown',
    ]);
    expect(r.json().changes[1]).toEqual({
      state: 'offline',
      reason: 'no heartbeat for 600 s',
      at: '2026-11-28T01:45:00.000Z',
    });
    const list = await h.app.inject({ url: '/api/v1/devices' });
    expect(list.json()[0]).toMatchObject({ id: 'adm-1', state: 'online', availability_24h_pct: 91.67 });
  });
});
