import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../helpers/fake-clock.js';
import { tempDir } from '../helpers/tmp.js';
import { AUTH, startCache, testConfig } from './harness.js';
import { TestUpstream } from './test-upstream.js';

type Ctx = Awaited<ReturnType<typeof startCache>>;

describe('/svc read-through cache', () => {
  let dir: ReturnType<typeof tempDir>;
  // The box's clocks, moved by the test: freshness and the credentials' re-check without sleeping.
  let clock: FakeClock;
  let up: TestUpstream;
  let gw: Ctx;
  let version = 1;

  beforeEach(async () => {
    clock = new FakeClock({ wall: Date.now() });
    dir = tempDir('kgw-cache-');
    version = 1;
    up = new TestUpstream((req) => {
      const url = req.url ?? '';
      const etag = `"v${version}"`;
      if (url.startsWith('/api/short')) {
        if (req.headers['if-none-match'] === etag)
          return { status: 304, headers: { etag, 'cache-control': 'max-age=1' } };
        return {
          headers: { etag, 'cache-control': 'max-age=1', 'content-type': 'application/json' },
          body: `{"v":${version}}`,
        };
      }
      if (url.startsWith('/api/nostore')) return { headers: { 'cache-control': 'no-store' }, body: 'secret' };
      if (url.startsWith('/api/private'))
        return { headers: { 'cache-control': 'private, max-age=60' }, body: 'mine' };
      if (url.startsWith('/api/strict'))
        return { headers: { 'cache-control': 'max-age=0, must-revalidate' }, body: 'strict' };
      if (url.startsWith('/api/lang'))
        return {
          headers: { vary: 'Accept-Language', 'cache-control': 'max-age=60' },
          body: `lang=${req.headers['accept-language']}`,
        };
      if (url.startsWith('/api/star'))
        return { headers: { vary: '*', 'cache-control': 'max-age=60' }, body: 'star' };
      if (url.startsWith('/api/boom')) return { status: 500, body: 'boom' };
      if (url.startsWith('/api/hang')) return 'hang';
      return { headers: { 'content-type': 'text/plain' }, body: `body of ${url} v${version}` };
    });
    up.clock = clock;
    await up.start();
  });

  afterEach(async () => {
    await gw?.stop();
    await up.stop();
    dir.cleanup();
  });

  const start = async (extra: Record<string, unknown> = {}, cache: Record<string, unknown> = {}) => {
    const config = testConfig(dir.path, {
      max_mb: 16,
      ...cache,
      upstreams: [{ name: 'layanan', base_url: `${up.url}/api`, ttl_s: 60, timeout_ms: 400, ...extra }],
    });
    gw = await startCache(config, clock);
    return gw;
  };
  const get = (url: string, headers: Record<string, string> = {}) =>
    gw.app.inject({ method: 'GET', url, headers: { ...AUTH, ...headers } });

  it('MISS then HIT, query string in the key, no Authorization upstream', async () => {
    await start();
    const a = await get('/svc/layanan/katalog?desa=kemiren');
    expect(a.statusCode).toBe(200);
    expect(a.headers['x-cache']).toBe('MISS');
    expect(a.headers.age).toBe('0');
    const b = await get('/svc/layanan/katalog?desa=kemiren');
    expect(b.headers['x-cache']).toBe('HIT');
    expect(b.body).toBe(a.body);
    expect(b.headers['x-data-date']).toMatch(/^\d{4}-\d\d-\d\dT/);
    const c = await get('/svc/layanan/katalog?desa=olehsari');
    expect(c.headers['x-cache']).toBe('MISS');
    expect(up.count('/api/katalog')).toBe(2);
    expect(up.attempts.every((x) => x.headers.authorization === undefined)).toBe(true);
    const head = await gw.app.inject({
      method: 'HEAD',
      url: '/svc/layanan/katalog?desa=kemiren',
      headers: AUTH,
    });
    expect(head.headers['x-cache']).toBe('HIT');
    expect(head.body).toBe('');
  });

  it('refuses callers without a device token and unknown upstreams', async () => {
    await start();
    const r = await gw.app.inject({ method: 'GET', url: '/svc/layanan/katalog' });
    expect(r.statusCode).toBe(401);
    expect(r.json().error).toBe('GW_ERR_UNAUTHORIZED');
    const bad = await gw.app.inject({
      method: 'GET',
      url: '/svc/layanan/x',
      headers: { authorization: 'Bearer nope' },
    });
    expect(bad.statusCode).toBe(401);
    expect((await get('/svc/lain/x')).statusCode).toBe(404);
    expect((await get('/svc/layanan/../../etc/passwd')).statusCode).toBeLessThan(500);
    expect(up.attempts).toHaveLength(0);
  });

  it('revalidates with If-None-Match after max-age and answers REVALIDATED on 304', async () => {
    await start();
    expect((await get('/svc/layanan/short')).headers['x-cache']).toBe('MISS');
    expect((await get('/svc/layanan/short')).headers['x-cache']).toBe('HIT');
    clock.advance(1100);
    const r = await get('/svc/layanan/short');
    expect(r.headers['x-cache']).toBe('REVALIDATED');
    expect(r.body).toBe('{"v":1}');
    expect(r.headers['content-type']).toBe('application/json');
    const last = up.attempts.at(-1);
    expect(last?.headers['if-none-match']).toBe('"v1"');
    expect((await get('/svc/layanan/short')).headers['x-cache']).toBe('HIT');
    // A kiosk's own conditional request gets a 304 from the box.
    const cond = await get('/svc/layanan/short', { 'if-none-match': '"v1"' });
    expect(cond.statusCode).toBe(304);
  });

  it('serves STALE with Age and the data date when the upstream is stopped, within the timeout', async () => {
    await start();
    const first = await get('/svc/layanan/short');
    const upstreamDate = Date.parse(String(first.headers.date));
    await up.stop();
    clock.advance(2100);
    const t0 = performance.now();
    const r = await get('/svc/layanan/short');
    const ms = performance.now() - t0;
    expect(r.statusCode).toBe(200);
    expect(r.headers['x-cache']).toBe('STALE');
    expect(r.body).toBe('{"v":1}');
    expect(Number(r.headers.age)).toBeGreaterThanOrEqual(2);
    expect(Number(r.headers.age)).toBeLessThanOrEqual(4);
    expect(Date.parse(String(r.headers['x-data-date']))).toBe(upstreamDate);
    expect(r.headers.date).toBe(first.headers.date);
    expect(ms).toBeLessThan(1000);
    const none = await get('/svc/layanan/never-fetched');
    expect(none.statusCode).toBe(504);
    expect(none.json().error).toBe('GW_ERR_UPSTREAM_UNAVAILABLE');
    expect(none.headers['x-cache']).toBe('MISS');
  });

  it('a hanging upstream never holds the kiosk longer than timeout_ms', async () => {
    await start({ ttl_s: 0 });
    version = 1;
    await get('/svc/layanan/slowable');
    up.handler = () => 'hang';
    const t0 = performance.now();
    const r = await get('/svc/layanan/slowable');
    const ms = performance.now() - t0;
    expect(r.headers['x-cache']).toBe('STALE');
    expect(ms).toBeGreaterThanOrEqual(350);
    expect(ms).toBeLessThan(1500);
  });

  it('link verdict down: no upstream attempt at all', async () => {
    await start({ ttl_s: 0 });
    await get('/svc/layanan/katalog');
    const before = up.attempts.length;
    gw.setLink('down');
    const r = await get('/svc/layanan/katalog');
    expect(r.headers['x-cache']).toBe('STALE');
    const none = await get('/svc/layanan/other');
    expect(none.statusCode).toBe(504);
    expect(up.attempts.length).toBe(before);
    gw.setLink('up');
    expect((await get('/svc/layanan/katalog')).headers['x-cache']).toBe('MISS');
    expect(up.attempts.length).toBe(before + 1);
  });

  it('5xx upstream: stored copy served STALE, else the 5xx relayed; must-revalidate is never served stale', async () => {
    await start({ ttl_s: 0 });
    await get('/svc/layanan/flaky');
    up.handler = () => ({ status: 503, body: 'down' });
    expect((await get('/svc/layanan/flaky')).headers['x-cache']).toBe('STALE');
    const relayed = await get('/svc/layanan/boom');
    expect(relayed.statusCode).toBe(503);
    expect(relayed.body).toBe('down');
    up.handler = () => ({ headers: { 'cache-control': 'max-age=0, must-revalidate' }, body: 'strict' });
    expect((await get('/svc/layanan/strict')).headers['x-cache']).toBe('MISS');
    await up.stop();
    expect((await get('/svc/layanan/strict')).statusCode).toBe(504);
  });

  it('no-store, private, Vary: * and never_cache paths are never stored', async () => {
    await start({ never_cache: ['/warga/', '/permohonan/*/status'] });
    for (const path of ['/nostore', '/private', '/star', '/warga/123', '/permohonan/9/status']) {
      expect((await get(`/svc/layanan${path}`)).headers['x-cache']).toBe('MISS');
      expect((await get(`/svc/layanan${path}`)).headers['x-cache']).toBe('MISS');
    }
    const rows = gw.store.db.prepare('SELECT key FROM cache_entries').all();
    expect(rows).toEqual([]);
    expect((await get('/svc/layanan/permohonan/9/lampiran')).headers['x-cache']).toBe('MISS');
    expect((await get('/svc/layanan/permohonan/9/lampiran')).headers['x-cache']).toBe('HIT');
  });

  it('honours Vary on forwarded request headers', async () => {
    await start();
    const id = await get('/svc/layanan/lang', { 'accept-language': 'id' });
    const en = await get('/svc/layanan/lang', { 'accept-language': 'en' });
    expect(id.body).toBe('lang=id');
    expect(en.body).toBe('lang=en');
    const id2 = await get('/svc/layanan/lang', { 'accept-language': 'id' });
    expect(id2.headers['x-cache']).toBe('HIT');
    expect(id2.body).toBe('lang=id');
    expect((await get('/svc/layanan/lang', { 'accept-language': 'en' })).body).toBe('lang=en');
  });
});

describe('/svc hot hits (the synchronous path) answer as the general path does', () => {
  let dir: ReturnType<typeof tempDir>;
  let up: TestUpstream;
  let gw: Ctx | undefined;
  let clock: FakeClock;

  beforeEach(async () => {
    clock = new FakeClock({ wall: Date.now() });
    dir = tempDir('kgw-cache-hot-');
    up = new TestUpstream((req) =>
      req.headers['if-none-match'] === '"k1"'
        ? { status: 304, headers: { etag: '"k1"', 'cache-control': 'max-age=600' } }
        : {
            headers: {
              etag: '"k1"',
              'cache-control': 'max-age=600',
              'content-type': 'application/json',
              'x-upstream': 'yes',
            },
            body: `{"url":${JSON.stringify(req.url)}}`,
          },
    );
    up.clock = clock;
    await up.start();
  });

  afterEach(async () => {
    await gw?.stop();
    gw = undefined;
    await up.stop();
    dir.cleanup();
  });

  const config = () =>
    testConfig(dir.path, { max_mb: 16, upstreams: [{ name: 'layanan', base_url: `${up.url}/api` }] });
  const get = (g: Ctx, url: string, headers: Record<string, string> = {}, method: 'GET' | 'HEAD' = 'GET') =>
    g.app.inject({ method, url, headers: { ...AUTH, ...headers } });
  const comparable = (h: Record<string, unknown>) => {
    const { date: _d, age: _a, connection: _c, ...rest } = h;
    return rest;
  };

  it('same status, headers and body from memory as from disk; HEAD, 304, Age and auth hold', async () => {
    gw = await startCache(config(), clock);
    expect((await get(gw, '/svc/layanan/katalog')).headers['x-cache']).toBe('MISS');
    await gw.stop();
    // A restart empties the hot set: the first HIT reads the body from disk (general path),
    // the second comes from memory (synchronous path).
    gw = await startCache(config(), clock);
    const fromDisk = await get(gw, '/svc/layanan/katalog');
    const fromMemory = await get(gw, '/svc/layanan/katalog');
    expect(fromDisk.headers['x-cache']).toBe('HIT');
    expect(fromMemory.headers['x-cache']).toBe('HIT');
    expect(fromMemory.statusCode).toBe(fromDisk.statusCode);
    expect(fromMemory.body).toBe(fromDisk.body);
    expect(comparable(fromMemory.headers)).toEqual(comparable(fromDisk.headers));
    expect(fromMemory.headers['x-upstream']).toBe('yes');
    expect(fromMemory.headers['content-length']).toBe(String(Buffer.byteLength(fromMemory.body)));
    expect(fromMemory.headers['x-data-date']).toMatch(/^\d{4}-\d\d-\d\dT/);

    const head = await get(gw, '/svc/layanan/katalog', {}, 'HEAD');
    expect(head.statusCode).toBe(200);
    expect(head.headers['x-cache']).toBe('HIT');
    expect(head.headers['content-length']).toBe(fromMemory.headers['content-length']);
    expect(head.body).toBe('');

    const cond = await get(gw, '/svc/layanan/katalog', { 'if-none-match': '"k0", "k1"' });
    expect(cond.statusCode).toBe(304);
    expect(cond.body).toBe('');
    expect(cond.headers.etag).toBe('"k1"');
    expect((await get(gw, '/svc/layanan/katalog', { 'if-none-match': '"k0"' })).statusCode).toBe(200);

    // Age is memoised per second, never frozen.
    clock.advance(1100);
    expect(Number((await get(gw, '/svc/layanan/katalog')).headers.age)).toBeGreaterThanOrEqual(1);

    // Every hit is still authenticated.
    const anon = await gw.app.inject({ method: 'GET', url: '/svc/layanan/katalog' });
    expect(anon.statusCode).toBe(401);
    expect(anon.json().error).toBe('GW_ERR_UNAUTHORIZED');
    const bad = await gw.app.inject({
      method: 'GET',
      url: '/svc/layanan/katalog',
      headers: { authorization: 'Bearer nope' },
    });
    expect(bad.statusCode).toBe(401);

    // An end-to-end reload still reaches the upstream (REVALIDATED via If-None-Match).
    const before = up.count('/api/katalog');
    const reload = await get(gw, '/svc/layanan/katalog', { 'cache-control': 'no-cache' });
    expect(reload.headers['x-cache']).toBe('REVALIDATED');
    expect(up.count('/api/katalog')).toBe(before + 1);
    expect(gw.cache.live().upstreams.layanan?.hits).toBeGreaterThanOrEqual(5);
  });
});
