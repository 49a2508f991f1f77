import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, GATEWAY_MODULES, modulesWith } from '../../src/app.js';
import { validateConfigText } from '../../src/config/loader.js';
import { createLogger } from '../../src/core/logger.js';
import { defineModule, type GatewayModule } from '../../src/modules/contract.js';
import type { StatusSection } from '../../src/status/types.js';
import { baseConfig } from '../helpers/daemon.js';
import { freePort } from '../helpers/net.js';
import { tempDir } from '../helpers/tmp.js';
import { ensurePageBuilt } from './ensure-page.js';
import { type Harness, sessionCookie, startHarness } from './harness.js';

const PASSWORD = 'rahasia-desa-1';

/** A whole capability declared the way a real one is: one descriptor, nothing else wired. */
function beaconModule() {
  const seen = { started: 0, stopped: 0, flashes: 0, cacheSeen: false };
  const module = defineModule({
    name: 'beacon',
    needs: ['cache'],
    slice: (c) => ({ gateway: c.gateway.id }),
    build: ({ config, need }) => {
      seen.cacheSeen = typeof need('cache').refreshCache === 'function';
      return {
        provides: seen,
        services: [{ name: 'beacon', start: () => void seen.started++, stop: () => void seen.stopped++ }],
        // A section the status object does not know yet (a new module's), typed loosely here.
        status: [
          {
            section: 'beacon',
            live: () => ({ gateway: config.gateway, lit: true }),
          } as unknown as StatusSection,
        ],
        publicRoutes: [
          async (app: FastifyInstance) => {
            app.get('/beacon/ping', async () => ({ pong: true }));
          },
        ],
        technicianRoutes: [
          async (app: FastifyInstance) => {
            app.get('/api/v1/beacon', async () => ({ flashes: seen.flashes }));
          },
        ],
        operations: [
          {
            name: 'flash-beacon',
            page: 'action',
            mqtt: true,
            description: 'flash the beacon',
            args: Type.Object(
              { colour: Type.Union([Type.Literal('red'), Type.Literal('green')], { default: 'red' }) },
              { additionalProperties: false },
            ),
            run: ({ args }) => {
              seen.flashes += 1;
              return { flashes: seen.flashes, colour: args.colour };
            },
          },
        ],
        bundleParts: { beacon: () => ({ flashes: seen.flashes }) },
      };
    },
  });
  return { module, seen };
}

describe('a module descriptor plugs in at one place', () => {
  const tmp = tempDir('kgw-modules-');
  const beacon = beaconModule();
  let h: Harness;
  let cookie: string;
  let csrf: string;

  beforeAll(async () => {
    ensurePageBuilt();
    // Reporting on (its commands face), towards a broker that is not there: commands are
    // answered through the registry without one.
    const mqttPort = await freePort();
    h = await startHarness(tmp.path, {
      config: { mqtt: { url: `mqtt://127.0.0.1:${mqttPort}`, connect_delay_max_s: 0 } },
      modules: [beacon.module],
    });
    const res = await h.app.server.inject({
      method: 'POST',
      url: '/api/v1/setup',
      headers: { origin: h.origin },
      payload: { code: h.setupCode(), name: 'ana', password: PASSWORD },
    });
    expect(res.statusCode).toBe(201);
    cookie = sessionCookie(res.headers['set-cookie']);
    csrf = (res.json() as { csrf: string }).csrf;
  });
  afterAll(async () => {
    await h?.stop();
    tmp.cleanup();
  });

  const get = (url: string, auth = true) =>
    h.app.server.inject({ method: 'GET', url, headers: auth ? { cookie } : {} });

  it('builds from what earlier modules provide, and starts with the others', () => {
    expect(beacon.seen.cacheSeen).toBe(true);
    expect(beacon.seen.started).toBe(1);
    expect(h.app.provided.get('beacon')).toBe(beacon.seen);
  });

  it('shows its status part, public route, guarded route and bundle part', async () => {
    expect((await get('/api/v1/status')).json().beacon).toEqual({ gateway: '3510170012', lit: true });
    expect((await get('/beacon/ping', false)).json()).toEqual({ pong: true });
    expect((await get('/api/v1/beacon', false)).statusCode).toBe(401);
    expect((await get('/api/v1/beacon')).statusCode).toBe(200);
    expect((await get('/api/v1/bundle')).json().beacon).toEqual({ flashes: 0 });
  });

  it('offers one operation entry on the page and over MQTT, with the same arguments check', async () => {
    const actions = (await get('/api/v1/actions')).json().items as Array<{ name: string }>;
    expect(actions.map((a) => a.name)).toContain('flash-beacon');
    const report = h.app.report!;
    expect(report.commands.names()).toContain('flash-beacon');

    const page = await h.app.server.inject({
      method: 'POST',
      url: '/api/v1/actions/flash-beacon',
      headers: { cookie, origin: h.origin, 'x-csrf-token': csrf },
      payload: { args: { colour: 'green' } },
    });
    expect(page.json()).toMatchObject({ ok: true, result: { flashes: 1, colour: 'green' } });
    const mqtt = await report.commands.handle('flash-beacon', Buffer.from(JSON.stringify({ id: 'b1' })));
    expect(mqtt).toEqual({ id: 'b1', ok: true, result: { flashes: 2, colour: 'red' } });
    const bad = await report.commands.handle(
      'flash-beacon',
      Buffer.from(JSON.stringify({ id: 'b2', args: { colour: 'blue' } })),
    );
    expect(bad.error?.code).toBe('bad_args');
    const badPage = await h.app.server.inject({
      method: 'POST',
      url: '/api/v1/actions/flash-beacon',
      headers: { cookie, origin: h.origin, 'x-csrf-token': csrf },
      payload: { args: { colour: 'blue' } },
    });
    expect(badPage.statusCode).toBe(400);
    expect(beacon.seen.flashes).toBe(2);
  });

  it('lists on each face exactly the registry entries offered there', async () => {
    const ops = h.app.deps.operations;
    const names = (face: 'action' | 'diagnostic' | 'mqtt') => ops.list(face).map((o) => o.name);
    const listed = async (path: string) =>
      ((await get(path)).json().items as Array<{ name: string }>).map((i) => i.name);
    expect(await listed('/api/v1/actions')).toEqual(names('action'));
    expect(await listed('/api/v1/diagnostics')).toEqual(names('diagnostic'));
    expect(h.app.report!.commands.names()).toEqual([...names('mqtt')].sort());
    // The built-in modules' entries, each offered where it was before.
    expect(names('action')).toEqual(['flush-outbox', 'refresh-cache', 'wipe-cache', 'flash-beacon']);
    expect(names('diagnostic')).toEqual(['self-check', 'ladder', 'probe']);
    expect([...names('mqtt')].sort()).toEqual([
      'diagnose',
      'flash-beacon',
      'flush-outbox',
      'get-config',
      'ping',
      'refresh-cache',
      'resend',
      'set-log-level',
      'upgrade',
    ]);
  });

  it('stops its services with the app', async () => {
    await h.stop();
    expect(beacon.seen.stopped).toBe(1);
  });
});

describe('the composition refuses wiring mistakes at build time', () => {
  const tmp = tempDir('kgw-modules-bad-');
  afterAll(() => tmp.cleanup());

  function build(modules: GatewayModule[]) {
    const r = validateConfigText(JSON.stringify(baseConfig(tmp.path)), `${tmp.path}/config.yaml`);
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    return () => buildApp({ config: r.config, log: createLogger({ level: 'fatal' }), version: 't', modules });
  }
  const op = (name: string, mqtt: boolean) =>
    defineModule({
      name: `other-${name}`,
      slice: () => ({}),
      build: () => ({
        provides: undefined,
        operations: [
          { name, mqtt, page: mqtt ? undefined : ('action' as const), description: '', run: () => 1 },
        ],
      }),
    });

  it('one name cannot be two operations, whichever face each is offered on', () => {
    expect(build(modulesWith([op('refresh-cache', true)]))).toThrow(/refresh-cache registered twice/);
    expect(build(modulesWith([op('ladder', true)]))).toThrow(/ladder registered twice/);
  });

  it('a module needs what is listed before it, and adds routes before the web module', () => {
    const needy = defineModule({
      name: 'needy',
      needs: ['cache'],
      slice: () => ({}),
      build: ({ need }) => ({ provides: need('cache') }),
    });
    expect(build([needy, ...GATEWAY_MODULES])).toThrow(/needy needs cache, which must be listed before it/);
    const sneaky = defineModule({
      name: 'sneaky',
      slice: () => ({}),
      build: ({ need }) => ({ provides: need('cache') }),
    });
    expect(build(modulesWith([sneaky]))).toThrow(/sneaky uses cache without listing it in needs/);
    const late = defineModule({
      name: 'late',
      slice: () => ({}),
      build: () => ({ provides: undefined, technicianRoutes: [async () => undefined] }),
    });
    expect(build([...GATEWAY_MODULES, late])).toThrow(/late adds routes or bundle parts after web/);
  });
});
