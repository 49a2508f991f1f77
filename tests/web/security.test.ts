import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/tmp.js';
import { ensurePageBuilt } from './ensure-page.js';
import { builtAsset, type Harness, sessionCookie, startHarness } from './harness.js';

// The page must exist even if the build step only ran tsc.
beforeAll(() => ensurePageBuilt());

const PASSWORD = 'rahasia-desa-1';
const dirs: Array<() => void> = [];
afterAll(() => {
  for (const d of dirs) d();
});

function freshDir(): string {
  const t = tempDir('kgw-web-sec-');
  dirs.push(t.cleanup);
  return t.path;
}

async function setup(h: Harness, name = 'ana') {
  const res = await h.app.server.inject({
    method: 'POST',
    url: '/api/v1/setup',
    headers: { origin: h.origin },
    payload: { code: h.setupCode(), name, password: PASSWORD },
  });
  expect(res.statusCode).toBe(201);
  return {
    cookie: sessionCookie(res.headers['set-cookie']),
    csrf: (res.json() as { csrf: string }).csrf,
    res,
  };
}

function login(
  server: FastifyInstance,
  name: string,
  password: string,
  ip = '10.9.0.1',
  origin = 'http://localhost:80',
) {
  return server.inject({
    method: 'POST',
    url: '/api/v1/session',
    remoteAddress: ip,
    headers: { origin },
    payload: { name, password },
  });
}

/** A stand-in for another module's technician plugin (e.g. uplink history). */
const fakeUplink = async (app: FastifyInstance) => {
  app.get('/api/v1/test-module/history', async () => ({ layers: {} }));
  app.post('/api/v1/test-module/poke', async () => ({ poked: true }));
};

describe('without a session', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(freshDir(), { extraRoutes: [fakeUplink] });
  });
  afterAll(() => h.stop());

  it('only the page, assets, health, session info, setup and login answer', async () => {
    const s = h.app.server;
    const open = [
      ['GET', '/'],
      ['GET', builtAsset()],
      ['GET', '/healthz'],
      ['GET', '/api/v1/session'],
    ] as const;
    for (const [method, url] of open) {
      const res = await s.inject({ method, url });
      expect(res.statusCode, `${method} ${url}`).toBe(200);
    }
    const page = await s.inject({ method: 'GET', url: '/' });
    expect(page.headers['content-security-policy']).toContain("default-src 'self'");
    expect(page.headers['x-frame-options']).toBe('DENY');
    const session = await s.inject({ method: 'GET', url: '/api/v1/session' });
    expect(session.headers['x-content-type-options']).toBe('nosniff');
    // Kiosk-facing routes relay their own content: the page's CSP is not forced on them.
    const health = await s.inject({ method: 'GET', url: '/healthz' });
    expect(health.headers['content-security-policy']).toBeUndefined();
    expect(page.body).not.toMatch(/https?:\/\/(?!localhost)/);
    // Setup and login are reachable (they answer on their own terms, never 401 for lack of a session).
    const setupRes = await s.inject({
      method: 'POST',
      url: '/api/v1/setup',
      headers: { origin: h.origin },
      payload: { code: 'WRONG-CODE1', name: 'x1', password: PASSWORD },
    });
    expect(setupRes.statusCode).toBe(403);
    const loginRes = await login(s, 'nobody', 'whatever-pw', '10.1.1.1');
    expect(loginRes.statusCode).toBe(401);
    expect(loginRes.json()).toMatchObject({ error: 'GW_ERR_UNAUTHORIZED' });

    const closed = [
      ['GET', '/api/v1/status'],
      ['GET', '/api/v1/events'],
      ['GET', '/api/v1/log'],
      ['GET', '/api/v1/audit'],
      ['GET', '/api/v1/alerts'],
      ['GET', '/api/v1/bundle'],
      ['GET', '/api/v1/diagnostics'],
      ['GET', '/api/v1/actions'],
      ['POST', '/api/v1/diagnostics/self-check'],
      ['POST', '/api/v1/actions/flush-outbox'],
      ['GET', '/api/v1/link/history'],
      ['GET', '/api/v1/outages'],
      ['GET', '/api/v1/test-module/history'],
      ['POST', '/api/v1/test-module/poke'],
      ['DELETE', '/api/v1/session'],
    ] as const;
    for (const [method, url] of closed) {
      const res = await s.inject({
        method,
        url,
        headers: { origin: h.origin },
        payload: method === 'POST' ? {} : undefined,
      });
      expect(res.statusCode, `${method} ${url}`).toBe(401);
      expect(res.json()).toMatchObject({ error: 'GW_ERR_UNAUTHORIZED' });
    }
    // A forged cookie is no session either.
    const forged = await s.inject({
      method: 'GET',
      url: '/api/v1/status',
      headers: { cookie: 'kgw_session=abc' },
    });
    expect(forged.statusCode).toBe(401);
  });
});

describe('setup code', () => {
  it('creates the first technician once, never again, and is retired on disk', async () => {
    const dir = freshDir();
    const h = await startHarness(dir);
    const code = h.setupCode();
    expect(code).toMatch(/^[2-9A-HJ-NP-Z]{5}-[2-9A-HJ-NP-Z]{5}$/);
    expect(h.ring.lines('warn').some((l) => l.line.msg?.toString().includes('setup code'))).toBe(true);
    // The ring (page, bundle) never keeps the code itself.
    expect(JSON.stringify(h.ring.lines('trace'))).not.toContain(code);
    const { res } = await setup(h);
    const cookie = String(res.headers['set-cookie']);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(cookie).toMatch(/Path=\//);
    expect(cookie).not.toMatch(/Secure/); // plain http here; Secure is set when served over TLS
    const again = await h.app.server.inject({
      method: 'POST',
      url: '/api/v1/setup',
      headers: { origin: h.origin },
      payload: { code, name: 'mallory', password: PASSWORD },
    });
    expect(again.statusCode).toBe(403);
    expect(existsSync(join(dir, 'data', 'setup-code'))).toBe(false);
    const who = await h.app.server.inject({ method: 'GET', url: '/api/v1/session' });
    expect(who.json()).toMatchObject({ authenticated: false, setup_pending: false });
    await h.stop();

    // A restart with a technician present makes no new code, and the old one stays dead.
    const h2 = await startHarness(dir);
    expect(existsSync(join(dir, 'data', 'setup-code'))).toBe(false);
    const after = await h2.app.server.inject({
      method: 'POST',
      url: '/api/v1/setup',
      headers: { origin: h2.origin },
      payload: { code, name: 'mallory', password: PASSWORD },
    });
    expect(after.statusCode).toBe(403);
    expect((await login(h2.app.server, 'ana', PASSWORD)).statusCode).toBe(200);
    expect((await login(h2.app.server, 'mallory', PASSWORD, '10.9.0.2')).statusCode).toBe(401);
    await h2.stop();
  });

  it('survives a restart unused (same code) and refuses a cross-origin setup', async () => {
    const dir = freshDir();
    const h = await startHarness(dir);
    const code = h.setupCode();
    const cross = await h.app.server.inject({
      method: 'POST',
      url: '/api/v1/setup',
      headers: { origin: 'http://evil.example' },
      payload: { code, name: 'ana', password: PASSWORD },
    });
    expect(cross.statusCode).toBe(403);
    await h.stop();
    const h2 = await startHarness(dir);
    expect(h2.setupCode()).toBe(code);
    await setup(h2);
    await h2.stop();
  });
});

describe('with a session', () => {
  let h: Harness;
  let cookie: string;
  let csrf: string;
  beforeAll(async () => {
    h = await startHarness(freshDir(), {
      extraRoutes: [fakeUplink],
      http: { session_idle_s: 60, session_max_s: 3600 },
    });
    ({ cookie, csrf } = await setup(h));
  });
  afterAll(() => h.stop());

  const post = (url: string, headers: Record<string, string>) =>
    h.app.server.inject({ method: 'POST', url, headers: { cookie, ...headers }, payload: {} });

  it('state changes need the CSRF token and a same-origin Origin', async () => {
    expect((await post('/api/v1/diagnostics/self-check', { origin: h.origin })).statusCode).toBe(403);
    expect(
      (await post('/api/v1/diagnostics/self-check', { origin: h.origin, 'x-csrf-token': 'nope' })).statusCode,
    ).toBe(403);
    expect(
      (await post('/api/v1/diagnostics/self-check', { origin: 'http://evil.example', 'x-csrf-token': csrf }))
        .statusCode,
    ).toBe(403);
    expect((await post('/api/v1/diagnostics/self-check', { 'x-csrf-token': csrf })).statusCode).toBe(403);
    expect(
      (await post('/api/v1/diagnostics/self-check', { 'x-csrf-token': csrf, 'sec-fetch-site': 'cross-site' }))
        .statusCode,
    ).toBe(403);
    // Other modules' plugins get the same protection for free.
    expect((await post('/api/v1/test-module/poke', { origin: h.origin })).statusCode).toBe(403);
    const ok = await post('/api/v1/diagnostics/self-check', { origin: h.origin, 'x-csrf-token': csrf });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ name: 'self-check', ok: true, result: { database: true } });
    const sameSite = await post('/api/v1/test-module/poke', {
      'x-csrf-token': csrf,
      'sec-fetch-site': 'same-origin',
    });
    expect(sameSite.statusCode).toBe(200);
    const logout = await h.app.server.inject({
      method: 'DELETE',
      url: '/api/v1/session',
      headers: { cookie, origin: h.origin },
    });
    expect(logout.statusCode).toBe(403);
  });

  it('dispatches only allow-listed names, with validated arguments', async () => {
    const headers = { origin: h.origin, 'x-csrf-token': csrf };
    expect((await post('/api/v1/diagnostics/rm-rf', headers)).statusCode).toBe(404);
    expect((await post('/api/v1/diagnostics/..%2F..%2Fbin%2Fsh', headers)).statusCode).toBe(400);
    expect((await post('/api/v1/actions/self-check', headers)).statusCode).toBe(404);
    const withArgs = await h.app.server.inject({
      method: 'POST',
      url: '/api/v1/diagnostics/self-check',
      headers: { cookie, ...headers },
      payload: { args: { host: '127.0.0.1; reboot' } },
    });
    expect(withArgs.statusCode).toBe(400);
    const list = await h.app.server.inject({
      method: 'GET',
      url: '/api/v1/diagnostics',
      headers: { cookie },
    });
    expect(list.json().items.map((i: { name: string }) => i.name)).toContain('self-check');
  });

  it('serves status, log, alerts and a bundle without secrets', async () => {
    const get = (url: string) => h.app.server.inject({ method: 'GET', url, headers: { cookie } });
    const status = (await get('/api/v1/status')).json();
    expect(Object.keys(status)).toEqual(
      expect.arrayContaining(['gateway', 'link', 'devices', 'outbox', 'cache', 'system', 'clock']),
    );
    const log = (await get('/api/v1/log?level=warn')).json();
    expect(log.available).toBe(true);
    expect(log.lines.every((l: { level: string }) => ['warn', 'error', 'fatal'].includes(l.level))).toBe(
      true,
    );
    expect((await get('/api/v1/log?level=loud')).statusCode).toBe(400);
    const bundle = await get('/api/v1/bundle');
    expect(bundle.statusCode).toBe(200);
    expect(bundle.headers['content-disposition']).toMatch(
      /attachment; filename="kampung-gw-3510170012-\d{12}\.json"/,
    );
    const text = bundle.body;
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain(cookie.split('=')[1]!);
    expect(JSON.parse(text)).toHaveProperty('config.gateway.id', '3510170012');
  });
});

describe('login throttle', () => {
  let h: Harness;
  const dir = freshDir();
  beforeAll(async () => {
    h = await startHarness(dir);
    await setup(h, 'ana');
  });
  afterAll(() => h.stop());

  it('the 6th bad password for one user in 15 min gets 429, from any address', async () => {
    for (let i = 0; i < 5; i++) {
      expect((await login(h.app.server, 'ana', 'wrong-password', `10.0.1.${i}`)).statusCode).toBe(401);
    }
    const sixth = await login(h.app.server, 'ana', PASSWORD, '10.0.1.99');
    expect(sixth.statusCode).toBe(429);
    expect(sixth.json()).toMatchObject({ error: 'GW_ERR_RATE_LIMITED' });
    h.clock.advance(15 * 60_000 + 1000);
    expect((await login(h.app.server, 'ana', PASSWORD, '10.0.1.99')).statusCode).toBe(200);
  });

  it('the 6th failure from one address gets 429, whatever the name', async () => {
    for (let i = 0; i < 5; i++) {
      expect((await login(h.app.server, `guess${i}`, 'wrong-password', '10.0.2.1')).statusCode).toBe(401);
    }
    expect((await login(h.app.server, 'ana', PASSWORD, '10.0.2.1')).statusCode).toBe(429);
    // Another address is not affected; the user itself had no failures.
    expect((await login(h.app.server, 'ana', PASSWORD, '10.0.2.2')).statusCode).toBe(200);
  });

  it('failures survive a restart (persisted) and are audited without secrets', async () => {
    for (let i = 0; i < 5; i++) await login(h.app.server, 'ana', 'wrong-password', '10.0.3.1');
    await h.stop();
    h = await startHarness(dir, { clock: h.clock });
    expect((await login(h.app.server, 'ana', PASSWORD, '10.0.3.2')).statusCode).toBe(429);
    const db = h.app.deps.store.db;
    const rows = db.prepare("SELECT * FROM audit WHERE action = 'login'").all() as Array<
      Record<string, unknown>
    >;
    expect(rows.some((r) => r.outcome === 'bad_password')).toBe(true);
    expect(rows.some((r) => r.outcome === 'throttled')).toBe(true);
    expect(JSON.stringify(rows)).not.toContain('wrong-password');
    expect(JSON.stringify(rows)).not.toContain(PASSWORD);
  });
});

describe('session expiry', () => {
  let h: Harness;
  afterEach(() => h?.stop());

  it('ends after the idle timeout on the monotonic clock, not on wall-clock jumps', async () => {
    h = await startHarness(freshDir(), { http: { session_idle_s: 5, session_max_s: 60 } });
    const { cookie } = await setup(h);
    const status = () => h.app.server.inject({ method: 'GET', url: '/api/v1/status', headers: { cookie } });
    h.clock.wall += 86_400_000; // NTP jumps a day: nothing happens
    expect((await status()).statusCode).toBe(200);
    h.clock.advance(4000);
    expect((await status()).statusCode).toBe(200); // activity keeps it alive
    h.clock.advance(4000);
    expect((await status()).statusCode).toBe(200);
    h.clock.advance(6000);
    expect((await status()).statusCode).toBe(401);
    expect((await status()).statusCode).toBe(401);
  });

  it('ends at the absolute limit however active, and after a reboot', async () => {
    const dir = freshDir();
    h = await startHarness(dir, { http: { session_idle_s: 60, session_max_s: 60 } });
    const { cookie } = await setup(h);
    const status = (hh: Harness, c: string) =>
      hh.app.server.inject({ method: 'GET', url: '/api/v1/status', headers: { cookie: c } });
    for (let i = 0; i < 5; i++) {
      h.clock.advance(11_000);
      expect((await status(h, cookie)).statusCode).toBe(200);
    }
    h.clock.advance(11_000);
    expect((await status(h, cookie)).statusCode).toBe(401);

    const fresh = sessionCookie((await login(h.app.server, 'ana', PASSWORD)).headers['set-cookie']);
    expect((await status(h, fresh)).statusCode).toBe(200);
    await h.stop();
    // Same data dir, another kernel boot (monotonic time restarted): the session is void.
    const clock = h.clock;
    clock.kernelBootId = 'boot-b';
    clock.mono = 5000;
    h = await startHarness(dir, { clock, http: { session_idle_s: 60, session_max_s: 60 } });
    expect((await status(h, fresh)).statusCode).toBe(401);
  });

  it('logout ends the session server-side', async () => {
    h = await startHarness(freshDir());
    const { cookie, csrf } = await setup(h);
    const out = await h.app.server.inject({
      method: 'DELETE',
      url: '/api/v1/session',
      headers: { cookie, origin: h.origin, 'x-csrf-token': csrf },
    });
    expect(out.statusCode).toBe(204);
    expect(String(out.headers['set-cookie'])).toMatch(/kgw_session=;/);
    expect(
      (await h.app.server.inject({ method: 'GET', url: '/api/v1/status', headers: { cookie } })).statusCode,
    ).toBe(401);
  });
});

describe('live feed and session end', () => {
  it('tells an SSE client its session expired and closes the stream', { timeout: 20_000 }, async () => {
    const h = await startHarness(freshDir(), { http: { session_idle_s: 5, session_max_s: 60 } });
    try {
      const { cookie } = await setup(h);
      const url = `http://127.0.0.1:${h.app.http.address!.port}/api/v1/events`;
      const res = await fetch(url, { headers: { cookie } });
      expect(res.status).toBe(200);
      const reader = res.body!.getReader();
      let text = '';
      const first = await reader.read();
      text += new TextDecoder().decode(first.value);
      expect(text).toContain('event: status');
      h.clock.advance(6000); // idle beyond the limit; the open stream itself is no activity
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        text += new TextDecoder().decode(value);
      }
      expect(text).toContain('event: expired');
      expect((await fetch(url, { headers: { cookie } })).status).toBe(401);
    } finally {
      await h.stop();
    }
  });
});

describe('static page', () => {
  it('serves pre-compressed, cacheable assets and nothing outside the page', async () => {
    const h = await startHarness(freshDir());
    try {
      const s = h.app.server;
      const asset = builtAsset();
      const br = await s.inject({
        method: 'GET',
        url: asset,
        headers: { 'accept-encoding': 'gzip, deflate, br' },
      });
      expect(br.statusCode).toBe(200);
      expect(br.headers['content-encoding']).toBe('br');
      expect(br.headers['cache-control']).toBe('public, max-age=31536000, immutable');
      expect(br.headers['content-type']).toMatch(/^text\/javascript/);
      const plain = await s.inject({ method: 'GET', url: asset });
      expect(plain.headers['content-encoding']).toBeUndefined();
      expect(plain.body.length).toBeGreaterThan(Number(br.headers['content-length']));
      const index = await s.inject({ method: 'GET', url: '/' });
      expect(index.headers['cache-control']).toBe('no-cache');
      const again = await s.inject({
        method: 'GET',
        url: '/',
        headers: { 'if-none-match': String(index.headers.etag) },
      });
      expect(again.statusCode).toBe(304);
      for (const url of [
        '/assets/..%2f..%2fconfig.yaml',
        '/assets/nope.js',
        '/etc/passwd',
        '/index.html.br',
        '/assets/',
      ]) {
        expect((await s.inject({ method: 'GET', url })).statusCode, url).toBe(404);
      }
    } finally {
      await h.stop();
    }
  });
});
