import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { parseTokenAnswer } from '../../src/cache/oauth2-token.js';
import { validateConfigText } from '../../src/config/loader.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { tempDir } from '../helpers/tmp.js';
import { AUTH, startCache, testConfig } from './harness.js';
import { TestUpstream } from './test-upstream.js';

const CLIENT_ID = 'desa kemiren';
const CLIENT_SECRET = 'rahasia:oauth2/+%';

describe('OAuth2 client credentials for an upstream (cache.upstreams[].auth.oauth2)', () => {
  const tmp = tempDir('kgw-oauth2-');
  const clock = new FakeClock();
  const lines: string[] = [];
  const log = pino({ level: 'debug' }, { write: (l: string) => lines.push(l) });
  let issued = 0;
  const lifetime: number | undefined = 120;
  let tokenDown = false;
  const valid = new Set<string>();
  const tokens = new TestUpstream(() => {
    if (tokenDown) return { status: 503, body: `{"error":"down","echo":"${CLIENT_SECRET}"}` };
    const access = `tok-${++issued}`;
    valid.add(access);
    return {
      headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
      body: JSON.stringify({ access_token: access, token_type: 'Bearer', expires_in: lifetime }),
    };
  });
  const api = new TestUpstream((req) => {
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (!bearer || !valid.has(bearer)) return { status: 401, body: 'token rejected' };
    return { headers: { 'cache-control': 'no-store' }, body: `ok ${bearer}` };
  });
  let gw: Awaited<ReturnType<typeof startCache>>;
  const get = () => gw.app.inject({ url: '/svc/layanan/katalog', headers: AUTH });
  const lastBearer = () => api.attempts.at(-1)?.headers.authorization;

  beforeAll(async () => {
    await tokens.start();
    await api.start();
    const clientFile = join(tmp.path, 'layanan.oauth');
    writeFileSync(clientFile, `${CLIENT_ID}:${CLIENT_SECRET}\n`, { mode: 0o600 });
    const config = testConfig(tmp.path, {
      upstreams: [
        {
          name: 'layanan',
          base_url: `${api.url}/api`,
          auth: {
            oauth2: {
              token_url: `${tokens.url}/oauth/token`,
              client_file: clientFile,
              scope: 'katalog.baca',
            },
          },
        },
      ],
    });
    gw = await startCache(config, clock, log);
  });
  afterAll(async () => {
    await gw?.stop();
    await tokens.stop();
    await api.stop();
    tmp.cleanup();
  });

  it('fetches one token for many concurrent requests, as client_secret_basic with form-encoded parts', async () => {
    const answers = await Promise.all(Array.from({ length: 8 }, () => get()));
    expect(answers.map((r) => r.statusCode)).toEqual(Array(8).fill(200));
    expect(issued).toBe(1);
    const asked = tokens.attempts[0]!;
    expect(asked.method).toBe('POST');
    expect(asked.url).toBe('/oauth/token');
    expect(asked.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(Object.fromEntries(new URLSearchParams(asked.body.toString()))).toEqual({
      grant_type: 'client_credentials',
      scope: 'katalog.baca',
    });
    const basic = Buffer.from(asked.headers.authorization!.replace(/^Basic /, ''), 'base64').toString();
    expect(basic).toBe('desa+kemiren:rahasia%3Aoauth2%2F%2B%25');
    expect(lastBearer()).toBe('Bearer tok-1');
    // The kiosk's own token never reaches either server.
    for (const a of [...tokens.attempts, ...api.attempts])
      expect(a.headers.authorization).not.toContain(AUTH.authorization.slice(7));
  });

  it('renews before expiry (the old token still serves meanwhile), by the monotonic clock', async () => {
    clock.advance(100_000); // 120 s lifetime: renewal opens 12 s before the end
    expect((await get()).statusCode).toBe(200);
    expect(issued).toBe(1);
    clock.advance(10_000);
    expect((await get()).statusCode).toBe(200);
    await expect.poll(() => issued).toBe(2);
    expect((await get()).statusCode).toBe(200);
    expect(lastBearer()).toBe('Bearer tok-2');
    // A wall-clock jump (NTP after a boot without RTC) changes nothing.
    clock.wall += 365 * 86_400_000;
    expect((await get()).statusCode).toBe(200);
    expect(issued).toBe(2);
  });

  it('a 401 from the upstream (token revoked early) makes the next request fetch a new token', async () => {
    valid.clear();
    expect((await get()).statusCode).toBe(401);
    expect((await get()).statusCode).toBe(200);
    expect(issued).toBe(3);
    expect(lastBearer()).toBe('Bearer tok-3');
  });

  it('a token server that fails: asked once per hold, never hammered; requests fail as unreachable; no secret logged', async () => {
    valid.clear();
    tokenDown = true;
    const before = tokens.attempts.length;
    expect((await get()).statusCode).toBe(401); // tok-3, revoked: dropped
    const r1 = await get();
    const r2 = await get();
    expect([r1.statusCode, r2.statusCode]).toEqual([504, 504]);
    expect(tokens.attempts.length - before).toBe(1);
    clock.advance(6_000);
    tokenDown = false;
    expect((await get()).statusCode).toBe(200);
    expect(lastBearer()).toBe(`Bearer tok-${issued}`);
    const logged = lines.join('\n');
    expect(logged).toContain('oauth2 token not obtained');
    expect(logged).toContain('oauth2 token obtained again');
    for (const secret of [CLIENT_SECRET, 'rahasia', 'tok-']) expect(logged).not.toContain(secret);
  });

  it('a token answer without expires_in lives 300 s; malformed answers are refused', () => {
    expect(parseTokenAnswer(Buffer.from('{"access_token":"a.b-c"}'))).toEqual({
      value: 'a.b-c',
      lifetimeS: 300,
    });
    expect(parseTokenAnswer(Buffer.from('{"access_token":"x","expires_in":"60"}')).lifetimeS).toBe(60);
    for (const bad of [
      'not json',
      '[]',
      'null',
      '{"access_token":42}',
      '{"access_token":"has space"}',
      '{"access_token":""}',
      '{"access_token":"x","token_type":"mac"}',
      `{"access_token":"${'x'.repeat(9000)}"}`,
    ])
      expect(() => parseTokenAnswer(Buffer.from(bad)), bad).toThrow();
    expect(parseTokenAnswer(Buffer.from('{"access_token":"x","expires_in":-5}')).lifetimeS).toBe(300);
    expect(parseTokenAnswer(Buffer.from('{"access_token":"x","expires_in":1e12}')).lifetimeS).toBe(86_400);
  });

  it('check-config refuses a plain-http token URL off the box, and a scope with quotes', () => {
    const file = join(tmp.path, 'c.oauth');
    writeFileSync(file, 'id:secret\n', { mode: 0o600 });
    const check = (oauth2: Record<string, unknown>) => {
      const raw = {
        gateway: { id: '3510170012', name: 'Test' },
        data_dir: join(tmp.path, 'd2'),
        http: { listen: '127.0.0.1:0' },
        uplink: { probes: [] },
        devices: [],
        cache: { upstreams: [{ name: 'l', base_url: 'https://layanan.example/api', auth: { oauth2 } }] },
      };
      const r = validateConfigText(stringify(raw), join(tmp.path, 'c.yaml'));
      return r.ok ? r.advisories.map((a) => a.path) : r.issues.map((i) => i.path);
    };
    expect(check({ token_url: 'https://sso.example/token', client_file: file })).toEqual([]);
    expect(check({ token_url: 'http://127.0.0.1:9/token', client_file: file })).toEqual([]);
    expect(check({ token_url: 'http://sso.example/token', client_file: file })).toEqual([
      'cache.upstreams[0].auth.oauth2.token_url',
    ]);
    expect(check({ token_url: 'https://sso.example/token', client_file: file, scope: 'a"b' })).toEqual([
      'cache.upstreams[0].auth.oauth2.scope',
    ]);
    expect(check({ token_url: 'https://sso.example/token', client_file: join(tmp.path, 'missing') })).toEqual(
      ['cache.upstreams[0].auth.oauth2.client_file'],
    );
  });
});
