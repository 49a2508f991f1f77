import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/net.js';
import { tempDir } from '../helpers/tmp.js';
import { AUTH, startCache, testConfig } from './harness.js';
import { TestUpstream } from './test-upstream.js';

type Ctx = Awaited<ReturnType<typeof startCache>>;

describe('/svc as a transparent proxy for what it does not cache', () => {
  let dir: ReturnType<typeof tempDir>;
  let up: TestUpstream;
  let gw: Ctx | undefined;

  beforeEach(async () => {
    dir = tempDir('kgw-cproxy-');
    up = new TestUpstream((req, body) => ({
      status: req.method === 'DELETE' ? 204 : 200,
      headers: { 'content-type': 'text/plain', 'cache-control': 'max-age=600' },
      body: req.method === 'DELETE' ? '' : `${req.method} ${req.url} ${body.toString()}`,
    }));
    await up.start();
  });

  afterEach(async () => {
    await gw?.stop();
    gw = undefined;
    await up.stop();
    dir.cleanup();
  });

  const start = async (upstream: Record<string, unknown> = {}) => {
    gw = await startCache(
      testConfig(dir.path, {
        outbound: { max_backoff_s: 1 },
        upstreams: [{ name: 'layanan', base_url: `${up.url}/api`, timeout_ms: 1500, ...upstream }],
      }),
    );
    return gw;
  };
  const req = (method: string, url: string, headers: Record<string, string> = {}, payload?: string) =>
    gw!.app.inject({ method: method as 'GET', url, headers: { ...AUTH, ...headers }, payload });

  it('forwards every end-to-end request field; never hop-by-hop ones, Proxy-*, or the kiosk’s Authorization and Cookie', async () => {
    await start();
    const r = await req('GET', '/svc/layanan/katalog', {
      'x-app-version': '4.2',
      'if-match': '"zz"',
      'user-agent': 'kiosk/1',
      cookie: 'gw_session=secret',
      connection: 'keep-alive, x-hop',
      'x-hop': 'per-connection',
      'keep-alive': 'timeout=5',
      te: 'trailers',
      trailer: 'x-sum',
      'proxy-authorization': 'Basic cHJveHk6cHc=',
      via: '1.1 kiosk-proxy',
    });
    expect(r.statusCode).toBe(200);
    const got = up.attempts[0]?.headers ?? {};
    expect(got['x-app-version']).toBe('4.2');
    expect(got['user-agent']).toBe('kiosk/1');
    for (const name of [
      'authorization',
      'cookie',
      'x-hop',
      'keep-alive',
      'te',
      'trailer',
      'proxy-authorization',
    ])
      expect(got[name], name).toBeUndefined();
    expect(got.via).toBe('1.1 kiosk-proxy, 1.1 kampung-gw');
  });

  it('replays the upstream’s response fields as received minus hop-by-hop ones, on MISS and HIT, with Via', async () => {
    up.handler = () => ({
      headers: {
        'cache-control': 'max-age=600',
        'x-request-cost': '3',
        link: '</katalog?page=2>; rel="next"',
        'content-language': 'id',
        connection: 'x-upstream-hop',
        'x-upstream-hop': 'nope',
        'proxy-authenticate': 'Basic realm="x"',
        via: '1.1 regency-lb',
      },
      body: 'isi',
    });
    await start();
    for (const expected of ['MISS', 'HIT']) {
      const r = await req('GET', '/svc/layanan/katalog');
      expect(r.headers['x-cache']).toBe(expected);
      expect(r.headers['x-request-cost']).toBe('3');
      expect(r.headers.link).toBe('</katalog?page=2>; rel="next"');
      expect(r.headers['content-language']).toBe('id');
      expect(r.headers['x-upstream-hop']).toBeUndefined();
      expect(r.headers['proxy-authenticate']).toBeUndefined();
      expect(r.headers.via).toBe('1.1 regency-lb, 1.1 kampung-gw');
    }
  });

  it('PATCH and DELETE are forwarded with their method and body; OPTIONS passes through, never cached', async () => {
    await start();
    const patch = await req(
      'PATCH',
      '/svc/layanan/permohonan/7',
      { 'content-type': 'application/json' },
      '{"a":1}',
    );
    expect(patch.statusCode).toBe(200);
    expect(patch.body).toBe('PATCH /api/permohonan/7 {"a":1}');
    const del = await req('DELETE', '/svc/layanan/permohonan/7');
    expect(del.statusCode).toBe(204);
    expect(up.attempts.at(-1)?.method).toBe('DELETE');
    for (let i = 0; i < 2; i++) {
      const opt = await req('OPTIONS', '/svc/layanan/permohonan', {
        'access-control-request-method': 'POST',
      });
      expect(opt.statusCode).toBe(200);
      expect(opt.headers.via).toBe('1.1 kampung-gw');
    }
    const options = up.attempts.filter((a) => a.method === 'OPTIONS');
    expect(options).toHaveLength(2);
    expect(options[0]?.headers['access-control-request-method']).toBe('POST');
  });

  it('offline_writes off: a write is forwarded as is, with or without an Idempotency-Key', async () => {
    await start({ offline_writes: false });
    const without = await req('POST', '/svc/layanan/permohonan', { 'content-type': 'text/plain' }, 'x');
    expect(without.statusCode).toBe(200);
    expect(up.attempts[0]?.headers['idempotency-key']).toBeUndefined();
    const withKey = await req('PUT', '/svc/layanan/permohonan/1', { 'idempotency-key': 'k-9' }, '');
    expect(withKey.statusCode).toBe(200);
    expect(up.attempts[1]?.headers['idempotency-key']).toBe('k-9');
  });

  it('offline_writes on: 428 without a key; PATCH and DELETE are queued like POST and delivered later, once', async () => {
    await start({ offline_writes: true });
    const refused = await req('DELETE', '/svc/layanan/permohonan/1');
    expect(refused.statusCode).toBe(428);
    expect(refused.json().error).toBe('GW_ERR_IDEMPOTENCY_KEY_REQUIRED');
    await up.stop();
    const patch = await req(
      'PATCH',
      '/svc/layanan/permohonan/1',
      { 'idempotency-key': 'p-1', 'content-type': 'text/plain' },
      'baru',
    );
    const del = await req('DELETE', '/svc/layanan/permohonan/2', { 'idempotency-key': 'd-1' });
    expect(patch.statusCode).toBe(202);
    expect(del.statusCode).toBe(202);
    await up.start();
    await waitFor(() => up.attempts.length >= 2, 8000);
    expect(up.attempts.map((a) => `${a.method} ${a.url} ${a.headers['idempotency-key']}`)).toEqual([
      'PATCH /api/permohonan/1 p-1',
      'DELETE /api/permohonan/2 d-1',
    ]);
    expect(up.attempts[0]?.body.toString()).toBe('baru');
  });

  it('a successful unsafe method invalidates its target and a same-origin Location / Content-Location (RFC 9111 4.4)', async () => {
    await start();
    for (const p of ['/katalog/1', '/katalog/2', '/katalog/3', '/katalog/4'])
      expect((await req('GET', `/svc/layanan${p}`)).headers['x-cache']).toBe('MISS');
    up.handler = (r) =>
      r.method === 'POST'
        ? {
            status: 201,
            headers: { location: `${up.url}/api/katalog/2`, 'content-location': '/api/katalog/3' },
            body: '',
          }
        : r.method === 'PUT'
          ? { status: 500, body: 'no' }
          : { headers: { 'cache-control': 'max-age=600' }, body: `${r.method} ${r.url}` };
    expect((await req('DELETE', '/svc/layanan/katalog/1')).statusCode).toBe(200);
    expect((await req('POST', '/svc/layanan/katalog/1/x')).statusCode).toBe(201);
    expect((await req('PUT', '/svc/layanan/katalog/4')).statusCode).toBe(500);
    expect((await req('GET', '/svc/layanan/katalog/1')).headers['x-cache']).toBe('MISS');
    expect((await req('GET', '/svc/layanan/katalog/2')).headers['x-cache']).toBe('MISS');
    expect((await req('GET', '/svc/layanan/katalog/3')).headers['x-cache']).toBe('MISS');
    // A failed write changes nothing: the stored copy stays.
    expect((await req('GET', '/svc/layanan/katalog/4')).headers['x-cache']).toBe('HIT');
  });
});
