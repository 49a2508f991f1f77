import { createServer, type Server } from 'node:net';
import { Value } from '@sinclair/typebox/value';
import Fastify from 'fastify';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SystemClock } from '../../src/core/clock.js';
import type { Scheduler } from '../../src/core/scheduler.js';
import type { GatewayBus, GatewayEvents } from '../../src/events.js';
import { icmpType } from '../../src/probes/icmp.js';
import { createProbe, createSampler } from '../../src/probes/registry.js';
import type { LinkStatus } from '../../src/status/types.js';
import { StateRepo } from '../../src/store/state-repo.js';
import type { Store } from '../../src/store/store.js';
import { type UplinkConfig, UplinkConfigSchema } from '../../src/uplink/config-schema.js';
import { HistoryRepo } from '../../src/uplink/history-repo.js';
import { OutageRepo } from '../../src/uplink/outage-repo.js';
import { uplinkRoutes } from '../../src/uplink/routes.js';
import { type UplinkDeps, UplinkService } from '../../src/uplink/uplink-service.js';
import { installErrorHandlers } from '../../src/web/error-handler.js';
import { type CoreDeps, coreDeps } from '../helpers/core-deps.js';
import { sleep, waitFor } from '../helpers/net.js';
import { tempDir } from '../helpers/tmp.js';

const log = pino({ level: process.env.TEST_LOG ?? 'silent' });

/** A TCP target we can cut (close) and repair (listen again on the same port). */
class Target {
  server: Server | null = null;
  port = 0;
  async up(): Promise<void> {
    const s = createServer((c) => c.destroy());
    await new Promise<void>((r) => s.listen(this.port, '127.0.0.1', () => r()));
    this.port = (s.address() as { port: number }).port;
    this.server = s;
  }
  async down(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (s) await new Promise((r) => s.close(r));
  }
}

const bothUp = (l: LinkStatus) => l.layers.lan?.state === 'up' && l.layers.isp?.state === 'up';

function uplinkConfig(raw: Record<string, unknown>): UplinkConfig {
  return Value.Default(UplinkConfigSchema, structuredClone(raw)) as UplinkConfig;
}

describe('UplinkService on loopback targets', () => {
  let dir: ReturnType<typeof tempDir>;
  let core: CoreDeps;
  let store: Store;
  let scheduler: Scheduler;
  let service: UplinkService | null = null;
  const clock = new SystemClock(undefined, 'test-boot');
  const lan = new Target();
  const isp = new Target();
  const events: { changed: LinkStatus[]; ended: GatewayEvents['outage.ended'][] } = {
    changed: [],
    ended: [],
  };
  let bus: GatewayBus;

  beforeEach(async () => {
    dir = tempDir('kgw-uplink-');
    core = coreDeps(dir.path, { clock, log });
    ({ store, scheduler, bus } = core);
    events.changed = [];
    events.ended = [];
    bus.on('link.changed', (l) => events.changed.push(l));
    bus.on('outage.ended', (o) => events.ended.push(o));
    await lan.up();
    await isp.up();
  });

  afterEach(async () => {
    service?.stop();
    service = null;
    core.stop();
    await lan.down();
    await isp.down();
    lan.port = 0;
    isp.port = 0;
    dir.cleanup();
  });

  const db = () => store.db;
  const build = (config: UplinkConfig, make = createProbe, createSampler?: UplinkDeps['createSampler']) =>
    new UplinkService({
      createSampler,
      config,
      clock,
      scheduler,
      store,
      bus,
      log,
      state: new StateRepo({ db }),
      writeTick: core.writeTick,
      history: new HistoryRepo({ db }),
      outages: new OutageRepo({ db, clock }),
      createProbe: make,
    });

  const ladder = () =>
    uplinkConfig({
      down_after: 3,
      up_after: 3,
      probes: [
        { name: 'router', layer: 'lan', type: 'tcp', host: '127.0.0.1', port: lan.port, interval_s: 1 },
        { name: 'ont', layer: 'isp', type: 'tcp', host: '127.0.0.1', port: isp.port, interval_s: 1 },
      ],
    });

  it('names the failing layer, keeps the ledger, persists state and history', async () => {
    service = build(ladder());
    service.start();
    await waitFor(() => bothUp(service!.live()), 5000);
    expect(service.live().layers).toMatchObject({ lan: { state: 'up' }, isp: { state: 'up' } });

    const cutAt = Date.now();
    await isp.down();
    await waitFor(() => service!.live().verdict === 'down', 5000);
    const detectMs = Date.now() - cutAt;
    // Three failed rounds on the 1 s beat.
    expect(detectMs).toBeLessThan(4000);
    const down = service.live();
    expect(down.fault_layer).toBe('isp');
    expect(down.layers.lan?.state).toBe('up');
    expect(down.outage?.fault_layer).toBe('isp');
    // The outage is dated from the first failed round (the next beat), not from the verdict.
    expect(Date.parse(down.outage!.start)).toBeLessThanOrEqual(cutAt + 1200);
    expect(Date.parse(down.outage!.start)).toBeGreaterThanOrEqual(cutAt - 50);
    const saved = new StateRepo({ db }).get<LinkStatus>('link')?.value;
    expect(saved).toMatchObject({ verdict: 'down', fault_layer: 'isp' });

    await sleep(1500);
    const repairAt = Date.now();
    await isp.up();
    await waitFor(() => service!.live().verdict === 'up', 5000);
    expect(events.ended).toHaveLength(1);
    const ended = events.ended[0]!;
    expect(ended.fault_layer).toBe('isp');
    const cutMs = repairAt - cutAt;
    expect(ended.duration_s * 1000).toBeGreaterThan(cutMs - 800);
    expect(ended.duration_s * 1000).toBeLessThan(cutMs + 800);
    expect(events.changed.map((l) => `${l.verdict}/${l.fault_layer}`)).toEqual([
      'up/null',
      'down/isp',
      'up/null',
    ]);

    const ledger = new OutageRepo({ db, clock }).list();
    expect(ledger).toHaveLength(1);
    expect(ledger[0]).toMatchObject({ fault_layer: 'isp', interrupted: false, loss_pct_before: 0 });
    expect(ledger[0]!.duration_s).toBeCloseTo(ended.duration_s, 1);

    service.stop();
    service = null;
    const raw = db().prepare('SELECT probe, n FROM uplink_raw').all() as Array<{ probe: string; n: number }>;
    expect([...new Set(raw.map((r) => r.probe))].sort()).toEqual(['ont', 'router']);
    const minutes = db()
      .prepare("SELECT SUM(down_ms) AS d, SUM(n) AS n FROM uplink_minute WHERE key IN ('layer:isp', 'ont')")
      .get() as {
      d: number;
      n: number;
    };
    expect(minutes.d).toBeGreaterThan(500);
    expect(minutes.n).toBeGreaterThan(5);
  });

  it('cutting the first hop names the lan, never the layers behind it', async () => {
    // Both probes fail at once; whichever reaches down_after first, the lan is named.
    service = build(ladder());
    service.start();
    await waitFor(() => bothUp(service!.live()), 5000);
    // Both targets gone at once: what a dead router does to everything behind it.
    await Promise.all([lan.down(), isp.down()]);
    await waitFor(() => service!.live().verdict === 'down', 6000);
    const seen = service.live();
    expect(seen.fault_layer).toBe('lan');
    expect(seen.layers.isp?.state).toBe('unknown');
    await sleep(1000);
    expect(events.changed.map((l) => `${l.verdict}/${l.fault_layer}`)).toEqual(['up/null', 'down/lan']);
  });

  it('reports a missing fping as a probe problem, never as a down layer', async () => {
    const config = uplinkConfig({
      probes: [
        { name: 'router', layer: 'lan', type: 'icmp', host: '127.0.0.1', interval_s: 0.5 },
        { name: 'ont', layer: 'isp', type: 'tcp', host: '127.0.0.1', port: isp.port, interval_s: 0.5 },
      ],
    });
    service = build(config, (spec, deps) =>
      spec.type === 'icmp' ? icmpType('/nonexistent/fping').create(spec, deps) : createProbe(spec, deps),
    );
    service.start();
    await waitFor(() => service!.live().layers.isp?.state === 'up', 5000);
    await sleep(1500);
    const l = service.live();
    expect(l.verdict).toBe('up');
    expect(l.layers.lan?.state).toBe('unknown');
    expect(l.problems?.join(' ')).toMatch(/fping not found/);
    expect(l.probes?.router?.detail).toMatch(/fping/);
  });

  it('reports a missing fping of the shared sampler the same way', async () => {
    const config = uplinkConfig({
      probes: [
        { name: 'router', layer: 'lan', type: 'icmp', host: '127.0.0.1' },
        { name: 'ont', layer: 'isp', type: 'tcp', host: '127.0.0.1', port: isp.port },
      ],
    });
    const broken = icmpType('/nonexistent/fping');
    service = build(config, createProbe, (specs, deps) =>
      specs[0]?.type === 'icmp' ? broken.sampler?.(specs, deps) : undefined,
    );
    service.start();
    await waitFor(() => service!.live().layers.isp?.state === 'up', 5000);
    await waitFor(() => /fping not found/.test(service!.live().problems?.join(' ') ?? ''), 5000);
    const l = service.live();
    expect(l.verdict).toBe('up');
    expect(l.layers.lan?.state).toBe('unknown');
  });

  it('reads real fping through the shared sampler: the lan is up from icmp alone', async () => {
    service = build(
      uplinkConfig({ probes: [{ name: 'router', layer: 'lan', type: 'icmp', host: '127.0.0.1' }] }),
      createProbe,
      createSampler,
    );
    service.start();
    await waitFor(() => service!.live().layers.lan?.state === 'up', 6000);
    expect(service.live().verdict).toBe('up');
  });

  it('closes an outage left open by a killed run, and serves history and ledger over HTTP', async () => {
    const outages = new OutageRepo({ db, clock });
    const start = { mono: clock.monoMs() - 60_000, wall: Date.now() - 60_000 };
    store.durable(() => outages.open(start, 'isp', 1.5, 12));
    service = build(ladder());
    service.start();
    await waitFor(() => bothUp(service!.live()), 5000);
    const [row] = outages.list();
    expect(row).toMatchObject({
      fault_layer: 'isp',
      interrupted: true,
      loss_pct_before: 1.5,
      rtt_ms_before: 12,
    });
    expect(row!.end).not.toBeNull();
    // ...and it is still reported (flagged), so the regency's ledger has it too.
    expect(events.ended).toEqual([expect.objectContaining({ fault_layer: 'isp', interrupted: true })]);

    service.stop(); // flushes the running minute
    service = null;
    const app = Fastify();
    installErrorHandlers(app);
    await app.register(uplinkRoutes, {
      history: new HistoryRepo({ db }),
      outages,
      link: () => ({ verdict: 'up', fault_layer: null, since: null, layers: {}, outage: null }),
      wallMs: () => Date.now(),
    });
    const h = await app.inject({ url: '/api/v1/link/history?hours=1&key=router' });
    expect(h.statusCode).toBe(200);
    const body = h.json() as {
      resolution: string;
      rows: Array<{ key: string; n: number; loss_pct: number }>;
    };
    expect(body.resolution).toBe('minute');
    expect(body.rows.length).toBeGreaterThan(0);
    expect(body.rows.every((r) => r.key === 'router')).toBe(true);
    expect(body.rows.reduce((a, r) => a + r.n, 0)).toBeGreaterThan(0);
    const o = await app.inject({ url: '/api/v1/outages?limit=5' });
    expect(o.statusCode).toBe(200);
    expect((o.json() as { outages: unknown[] }).outages).toHaveLength(1);
    expect((await app.inject({ url: '/api/v1/link/history?hours=100&resolution=minute' })).statusCode).toBe(
      400,
    );
    expect((await app.inject({ url: '/api/v1/link/history?hours=abc' })).statusCode).toBe(400);
    expect((await app.inject({ url: '/api/v1/outages?limit=0' })).statusCode).toBe(400);
    await app.close();
  });
});
