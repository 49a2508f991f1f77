import { statSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCodeFile } from '../../src/web/auth/setup-code.js';
import { TestBroker } from '../helpers/mosquitto.js';
import { tempDir } from '../helpers/tmp.js';
import { DIALECTS, RegencyDaemon, regencyConfig, TestStore } from './helpers.js';

interface Call {
  method?: string;
  body?: unknown;
  cookie?: string;
  origin?: string | null;
  csrf?: string;
  /** Source address (any 127.x works on Linux loopback): the throttle counts per address. */
  from?: string;
}

/** One raw HTTP call with full control of the headers that matter here. */
function call(port: number, path: string, c: Call = {}) {
  const body = c.body === undefined ? undefined : JSON.stringify(c.body);
  const origin = c.origin === undefined ? `http://127.0.0.1:${port}` : c.origin;
  const headers: Record<string, string> = {};
  if (body) headers['content-type'] = 'application/json';
  if (origin) headers.origin = origin;
  if (c.cookie) headers.cookie = c.cookie;
  if (c.csrf) headers['x-csrf-token'] = c.csrf;
  return new Promise<{ status: number; json: Record<string, unknown>; cookie: string }>((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: c.method ?? 'GET',
        headers,
        localAddress: c.from ?? '127.0.0.1',
      },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => {
          text += d.toString();
        });
        res.on('end', () => {
          const setCookie = res.headers['set-cookie']?.[0] ?? '';
          let json: Record<string, unknown> = {};
          try {
            json = JSON.parse(text) as Record<string, unknown>;
          } catch {
            // 204 and HTML answers
          }
          resolve({ status: res.statusCode ?? 0, json, cookie: setCookie });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe.each(DIALECTS)('regency accounts: setup, login, throttle, CSRF, guard (%s)', (dialect) => {
  const tmp = tempDir('kgw-regency-acc-');
  const broker = new TestBroker();
  const store = new TestStore(dialect, tmp.path);
  let daemon: RegencyDaemon;
  let cookie = '';
  let csrf = '';
  const port = () => daemon.port;

  beforeAll(async () => {
    await broker.start();
    await store.create();
    daemon = new RegencyDaemon(`${tmp.path}/regency`, regencyConfig(store, broker.url));
    await daemon.start();
  });
  afterAll(async () => {
    await daemon?.kill();
    await broker.dispose();
    await store.drop();
    tmp.cleanup();
  });

  it('answers 401 on every account route without a session, before looking at the request', async () => {
    for (const path of [
      '/api/v1/fleet',
      '/api/v1/villages/3510170012',
      '/api/v1/villages/not-a-code',
      '/api/v1/villages/3510170012/history?hours=24',
      '/api/v1/villages/3510170012/outages',
    ]) {
      const r = await call(port(), path);
      expect([path, r.status, r.json.error]).toEqual([path, 401, 'GW_ERR_UNAUTHORIZED']);
    }
    const who = await call(port(), '/api/v1/session');
    expect(who.json).toMatchObject({
      authenticated: false,
      setup_pending: true,
      regency: { name: 'Kabupaten Uji' },
    });
  });

  it('writes the one-time setup code to a 0600 file in data_dir and never into the JSON log', () => {
    const file = join(store.dataDir, 'setup-code');
    const code = readCodeFile(file);
    expect(code).toMatch(/^[2-9A-Z]{5}-[2-9A-Z]{5}$/);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const log = JSON.stringify(daemon.logs) + daemon.stderr;
    expect(log).not.toContain(code as string);
    expect(log.replace(/[^A-Z0-9]/g, '')).not.toContain((code as string).replace('-', ''));
    expect(daemon.logs.some((l) => String(l.msg).includes('setup code'))).toBe(true);
  });

  it('creates the first account once with the setup code, cross-origin and wrong codes refused', async () => {
    const code = readCodeFile(join(store.dataDir, 'setup-code')) as string;
    const body = { code, name: 'noc-ana', password: 'sandi-panjang-1' };
    expect(
      (await call(port(), '/api/v1/setup', { method: 'POST', body, origin: 'http://evil.example' })).status,
    ).toBe(403);
    const wrong = await call(port(), '/api/v1/setup', {
      method: 'POST',
      body: { ...body, code: 'AAAAA-BBBBB' },
      from: '127.0.0.9',
    });
    expect(wrong.status).toBe(403);
    const ok = await call(port(), '/api/v1/setup', {
      method: 'POST',
      body: { ...body, code: code.toLowerCase() },
    });
    expect(ok.status).toBe(201);
    expect(ok.cookie).toMatch(/^kgw_regency_session=[A-Za-z0-9_-]{40,}; Path=\/; HttpOnly; SameSite=Strict/);
    expect(ok.json).toMatchObject({ name: 'noc-ana', csrf: expect.any(String) });
    const again = await call(port(), '/api/v1/setup', {
      method: 'POST',
      body: { ...body, name: 'noc-budi' },
    });
    expect(again.status).toBe(403);
    expect(readCodeFile(join(store.dataDir, 'setup-code'))).toBeUndefined();
    expect((await call(port(), '/api/v1/session')).json.setup_pending).toBe(false);
  });

  it('logs in, serves the fleet with the session, and answers "who am I"', async () => {
    const r = await call(port(), '/api/v1/session', {
      method: 'POST',
      body: { name: 'noc-ana', password: 'sandi-panjang-1' },
    });
    expect(r.status).toBe(200);
    cookie = r.cookie.split(';')[0] as string;
    csrf = r.json.csrf as string;
    const fleet = await call(port(), '/api/v1/fleet', { cookie });
    expect(fleet.status).toBe(200);
    expect((fleet.json as unknown as unknown[]).length).toBe(203);
    const who = await call(port(), '/api/v1/session', { cookie });
    expect(who.json).toMatchObject({ authenticated: true, name: 'noc-ana', csrf });
    // A session with a bad village code: now the schema answers.
    expect((await call(port(), '/api/v1/villages/abc', { cookie })).status).toBe(400);
    expect((await call(port(), '/api/v1/villages/3599999998', { cookie })).status).toBe(404);
    // The guard's CSRF and same-origin checks on a state-changing account route (commands).
    const cmd = '/api/v1/villages/3510170012/commands/ping';
    expect((await call(port(), cmd, { method: 'POST', cookie })).status).toBe(403);
    expect((await call(port(), cmd, { method: 'POST', cookie, csrf: 'x'.repeat(43) })).status).toBe(403);
    expect(
      (await call(port(), cmd, { method: 'POST', cookie, csrf, origin: 'http://evil.example' })).status,
    ).toBe(403);
    expect((await call(port(), cmd, { method: 'POST', csrf })).status).toBe(401);
    const audit = await call(port(), '/api/v1/villages/3510170012/commands', { cookie });
    expect([audit.status, audit.json]).toEqual([200, []]);
    // A registry village never heard from: known, unknown state, nothing stored yet.
    const v = await call(port(), '/api/v1/villages/3510170012', { cookie });
    expect([v.status, v.json.state, v.json.name, v.json.box, v.json.devices]).toEqual([
      200,
      'unknown',
      'KEMIREN',
      null,
      [],
    ]);
    const hist = await call(port(), '/api/v1/villages/3510170012/history?hours=48', { cookie });
    expect([hist.status, hist.json.bucket_s, hist.json.points]).toEqual([200, 600, []]);
    expect((await call(port(), '/api/v1/villages/3510170012/history?hours=0', { cookie })).status).toBe(400);
    const out = await call(port(), '/api/v1/villages/3510170012/outages?from=2026-01-01&to=2026-01-31', {
      cookie,
    });
    expect([out.status, out.json.from, out.json.outages]).toEqual([200, '2025-12-31T17:00:00.000Z', []]);
  });

  it('refuses a logout without the CSRF token or from another origin, then logs out for good', async () => {
    expect((await call(port(), '/api/v1/session', { method: 'DELETE', cookie })).status).toBe(403);
    expect(
      (await call(port(), '/api/v1/session', { method: 'DELETE', cookie, csrf: `${csrf}x` })).status,
    ).toBe(403);
    expect(
      (
        await call(port(), '/api/v1/session', {
          method: 'DELETE',
          cookie,
          csrf,
          origin: 'http://evil.example',
        })
      ).status,
    ).toBe(403);
    const out = await call(port(), '/api/v1/session', { method: 'DELETE', cookie, csrf });
    expect(out.status).toBe(204);
    expect(out.cookie).toMatch(/Max-Age=0/);
    expect((await call(port(), '/api/v1/fleet', { cookie })).status).toBe(401);
    expect((await call(port(), '/api/v1/session', { method: 'DELETE', cookie, csrf })).status).toBe(401);
  });

  it('throttles logins: 5 failures per user and per source address, then 429 even with the right password', async () => {
    const login = (name: string, password: string, from: string) =>
      call(port(), '/api/v1/session', { method: 'POST', body: { name, password }, from });
    // Per user: five wrong passwords for noc-ana from one address block noc-ana from any address.
    for (let i = 0; i < 5; i++) expect((await login('noc-ana', 'salah-salah', '127.0.0.2')).status).toBe(401);
    expect((await login('noc-ana', 'sandi-panjang-1', '127.0.0.3')).status).toBe(429);
    // Per address: 127.0.0.2 has five failures too, so even another name is refused from there.
    expect((await login('noc-other', 'whatever-long', '127.0.0.2')).status).toBe(429);
    // Another address with another name is still heard (wrong password: 401, not 429).
    expect((await login('noc-other', 'whatever-long', '127.0.0.4')).status).toBe(401);
  });
});
