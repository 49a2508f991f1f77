import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../helpers/fake-clock.js';
import { waitFor } from '../helpers/net.js';
import { tempDir } from '../helpers/tmp.js';
import { AUTH, startCache, testConfig } from './harness.js';
import { type Handler, TestUpstream } from './test-upstream.js';

type Ctx = Awaited<ReturnType<typeof startCache>>;
const BODY = 'abcdefghijklmnopqrstuvwxyz';

/** Each behaviour of RFC 9111 (and RFC 5861) the gateway implements, against a recording upstream. */
describe('/svc caching per RFC 9111', () => {
  let dir: ReturnType<typeof tempDir>;
  // The box's clocks, moved by the test: freshness and the credentials' re-check without sleeping.
  let clock: FakeClock;
  let up: TestUpstream;
  let gw: Ctx | undefined;

  beforeEach(async () => {
    clock = new FakeClock({ wall: Date.now() });
    dir = tempDir('kgw-crfc-');
    up = new TestUpstream(() => ({ body: BODY }));
    up.clock = clock;
    await up.start();
  });

  afterEach(async () => {
    await gw?.stop();
    gw = undefined;
    await up.stop();
    dir.cleanup();
  });

  const start = async (handler: Handler, upstream: Record<string, unknown> = {}) => {
    up.handler = handler;
    gw = await startCache(
      testConfig(dir.path, {
        upstreams: [
          { name: 'layanan', base_url: `${up.url}/api`, ttl_s: 600, timeout_ms: 1500, ...upstream },
        ],
      }),
      clock,
    );
    return gw;
  };
  const get = (headers: Record<string, string> = {}, path = '/svc/layanan/data') =>
    gw!.app.inject({ method: 'GET', url: path, headers: { ...AUTH, ...headers } });
  const calls = () => up.attempts.length;

  it('Vary on any request field: a response for one X-Foo is not reused for another, nor for none (4.1)', async () => {
    await start((r) => ({
      headers: { vary: 'X-Foo', 'cache-control': 'max-age=600' },
      body: `foo=${r.headers['x-foo'] ?? '-'}`,
    }));
    expect((await get({ 'x-foo': 'a' })).body).toBe('foo=a');
    const b = await get({ 'x-foo': 'b' });
    expect(b.body).toBe('foo=b');
    expect(b.headers['x-cache']).toBe('MISS');
    expect((await get()).body).toBe('foo=-');
    expect((await get({ 'x-foo': '' })).headers['x-cache']).toBe('MISS');
    const again = await get({ 'x-foo': 'a' });
    expect(again.headers['x-cache']).toBe('HIT');
    expect(again.body).toBe('foo=a');
    expect(calls()).toBe(4);
  });

  it('request no-store: the response is relayed and never stored (5.2.1.5)', async () => {
    await start(() => ({ headers: { 'cache-control': 'max-age=600' }, body: BODY }));
    expect((await get({ 'cache-control': 'no-store' })).body).toBe(BODY);
    expect(gw!.store.db.prepare('SELECT COUNT(*) AS n FROM cache_entries').get()).toEqual({ n: 0 });
    expect((await get()).headers['x-cache']).toBe('MISS');
  });

  it('request max-age and min-fresh send a too old / too soon stale copy upstream (5.2.1.1, 5.2.1.3)', async () => {
    await start(() => ({ headers: { 'cache-control': 'max-age=600', age: '100' }, body: BODY }));
    await get();
    expect((await get()).headers['x-cache']).toBe('HIT');
    expect((await get({ 'cache-control': 'max-age=200' })).headers['x-cache']).toBe('HIT');
    expect((await get({ 'cache-control': 'max-age=50' })).headers['x-cache']).toBe('MISS');
    expect((await get({ 'cache-control': 'min-fresh=550' })).headers['x-cache']).toBe('MISS');
    expect(calls()).toBe(3);
  });

  it('request max-age=0 (a reload) reaches the upstream even for a copy stored the same second (5.2.1.1)', async () => {
    await start(() => ({ headers: { 'cache-control': 'max-age=600', etag: '"e"' }, body: BODY }));
    await get();
    const reload = await get({ 'cache-control': 'max-age=0' });
    expect(reload.headers['x-cache']).not.toBe('HIT');
    expect(reload.body).toBe(BODY);
    expect(calls()).toBe(2);
    expect(up.attempts[1]?.headers['if-none-match']).toBe('"e"');
    expect((await get()).headers['x-cache']).toBe('HIT');
  });

  it('max-stale: a stale copy is served without asking the upstream, within the bound, and labelled (5.2.1.2)', async () => {
    await start(() => ({ headers: { 'cache-control': 'max-age=10', age: '40' }, body: BODY }));
    await get();
    const r = await get({ 'cache-control': 'max-stale=60' });
    expect(r.headers['x-cache']).toBe('STALE');
    expect(r.headers['x-stale-reason']).toBe('max-stale');
    expect(calls()).toBe(1);
    expect((await get({ 'cache-control': 'max-stale=5' })).headers['x-cache']).toBe('MISS');
  });

  it('only-if-cached: a stored response or 504, never the upstream (5.2.1.7)', async () => {
    await start(() => ({ headers: { 'cache-control': 'max-age=600' }, body: BODY }));
    const none = await get({ 'cache-control': 'only-if-cached' });
    expect(none.statusCode).toBe(504);
    expect(none.json().error).toBe('GW_ERR_NOT_CACHED');
    expect(calls()).toBe(0);
    await get();
    const hit = await get({ 'cache-control': 'only-if-cached' });
    expect(hit.headers['x-cache']).toBe('HIT');
    expect(calls()).toBe(1);
  });

  it('must-revalidate is never served stale when the upstream is down (504) — unless serve_stale: always, marked', async () => {
    const strict = () => ({ headers: { 'cache-control': 'max-age=0, must-revalidate' }, body: BODY });
    await start(strict);
    await get();
    await up.stop();
    const refused = await get();
    expect(refused.statusCode).toBe(504);
    await gw?.stop();
    up.clock = clock;
    await up.start();
    await start(strict, { serve_stale: 'always' });
    await get();
    await up.stop();
    const r = await get();
    expect(r.statusCode).toBe(200);
    expect(r.body).toBe(BODY);
    expect(r.headers['x-cache']).toBe('STALE');
    expect(r.headers['x-stale-reason']).toBe('serve_stale=always');
    expect(r.headers.warning).toMatch(/^110 /);
  });

  it('a stale copy the headers allow is served when the upstream is down, labelled "disconnected", no Warning', async () => {
    await start(() => ({ headers: { 'cache-control': 'max-age=0' }, body: BODY }), { serve_stale: 'always' });
    await get();
    await up.stop();
    const r = await get();
    expect(r.headers['x-cache']).toBe('STALE');
    expect(r.headers['x-stale-reason']).toBe('disconnected');
    expect(r.headers.warning).toBeUndefined();
  });

  it('s-maxage wins over max-age in a shared cache (5.2.2.10)', async () => {
    await start(() => ({ headers: { 'cache-control': 'max-age=0, s-maxage=600' }, body: BODY }));
    await get();
    expect((await get()).headers['x-cache']).toBe('HIT');
  });

  it('no-cache is revalidated every time; no-cache="f" reuses the response without f (5.2.2.4)', async () => {
    await start((r) => {
      if (r.url?.endsWith('/plain'))
        return r.headers['if-none-match'] === '"n1"'
          ? { status: 304, headers: { etag: '"n1"' } }
          : { headers: { etag: '"n1"', 'cache-control': 'no-cache' }, body: BODY };
      return {
        headers: { 'cache-control': 'max-age=600, no-cache="x-token"', 'x-token': 't-1', 'x-keep': 'k' },
        body: BODY,
      };
    });
    await get({}, '/svc/layanan/plain');
    const again = await get({}, '/svc/layanan/plain');
    expect(again.headers['x-cache']).toBe('REVALIDATED');
    expect(calls()).toBe(2);
    const miss = await get({}, '/svc/layanan/fields');
    expect(miss.headers['x-token']).toBe('t-1');
    const hit = await get({}, '/svc/layanan/fields');
    expect(hit.headers['x-cache']).toBe('HIT');
    expect(hit.headers['x-token']).toBeUndefined();
    expect(hit.headers['x-keep']).toBe('k');
  });

  it('private is never stored; private="f" is stored without f; public makes a 404 storable (5.2.2.7, 5.2.2.9)', async () => {
    await start((r) => {
      if (r.url?.endsWith('/mine'))
        return { headers: { 'cache-control': 'private, max-age=600' }, body: BODY };
      if (r.url?.endsWith('/gone'))
        return { status: 404, headers: { 'cache-control': 'public' }, body: 'none' };
      return { headers: { 'cache-control': 'max-age=600, private="x-user"', 'x-user': 'u-1' }, body: BODY };
    });
    await get({}, '/svc/layanan/mine');
    expect((await get({}, '/svc/layanan/mine')).headers['x-cache']).toBe('MISS');
    await get({}, '/svc/layanan/partly');
    const hit = await get({}, '/svc/layanan/partly');
    expect(hit.headers['x-cache']).toBe('HIT');
    expect(hit.headers['x-user']).toBeUndefined();
    await get({}, '/svc/layanan/gone');
    const gone = await get({}, '/svc/layanan/gone');
    expect(gone.statusCode).toBe(404);
    expect(gone.headers['x-cache']).toBe('HIT');
  });

  it('a public 302 with Last-Modified gets a heuristic lifetime; without public it does not (4.2.2)', async () => {
    const lm = new Date(clock.wallMs() - 30 * 86_400_000).toUTCString();
    await start((r) => ({
      status: 302,
      headers: {
        location: '/elsewhere',
        'last-modified': lm,
        'cache-control': r.url?.endsWith('/pub') ? 'public' : undefined,
      },
      body: '',
    }));
    await get({}, '/svc/layanan/pub');
    const pub = await get({}, '/svc/layanan/pub');
    expect(pub.statusCode).toBe(302);
    expect(pub.headers['x-cache']).toBe('HIT');
    await get({}, '/svc/layanan/plain');
    expect((await get({}, '/svc/layanan/plain')).headers['x-cache']).toBe('MISS');
    expect(calls()).toBe(3);
  });

  it('Age from the upstream counts; a malformed Age is ignored (4.2.3, 5.1)', async () => {
    await start((r) => ({
      headers: { 'cache-control': 'max-age=60', age: r.url?.endsWith('/old') ? '70' : '-5, 99' },
      body: BODY,
    }));
    await get({}, '/svc/layanan/old');
    expect((await get({}, '/svc/layanan/old')).headers['x-cache']).toBe('MISS');
    await get({}, '/svc/layanan/odd');
    const odd = await get({}, '/svc/layanan/odd');
    expect(odd.headers['x-cache']).toBe('HIT');
    expect(Number(odd.headers.age)).toBeLessThan(5);
  });

  it('Expires: invalid means already stale; without Date it counts from the response time (5.3)', async () => {
    const inOneHour = new Date(Date.now() + 3_600_000).toUTCString();
    await start((r) =>
      r.url?.endsWith('/bad')
        ? { headers: { expires: '0' }, body: BODY }
        : { headers: { expires: inOneHour, date: null }, body: BODY },
    );
    await get({}, '/svc/layanan/bad');
    expect((await get({}, '/svc/layanan/bad')).headers['x-cache']).toBe('MISS');
    await get({}, '/svc/layanan/nodate');
    expect(up.attempts.at(-1)).toBeDefined();
    expect((await get({}, '/svc/layanan/nodate')).headers['x-cache']).toBe('HIT');
  });

  it('a 304 updates the stored headers (4.3.4)', async () => {
    let v = 1;
    await start((r) =>
      r.headers['if-none-match'] === '"e"'
        ? { status: 304, headers: { etag: '"e"', 'cache-control': 'max-age=600', 'x-version': String(v) } }
        : { headers: { etag: '"e"', 'cache-control': 'max-age=0', 'x-version': String(v) }, body: BODY },
    );
    await get();
    v = 2;
    const reval = await get();
    expect(reval.headers['x-cache']).toBe('REVALIDATED');
    expect(reval.headers['x-version']).toBe('2');
    const hit = await get();
    expect(hit.headers['x-cache']).toBe('HIT');
    expect(hit.headers['x-version']).toBe('2');
  });

  it('kiosk conditionals are answered 304 from a fresh stored response (4.3.2)', async () => {
    const lm = new Date(Date.now() - 86_400_000).toUTCString();
    await start(() => ({
      headers: { etag: '"abc"', 'last-modified': lm, 'cache-control': 'max-age=600' },
      body: BODY,
    }));
    await get();
    expect((await get({ 'if-none-match': 'W/"abc"' })).statusCode).toBe(304);
    expect((await get({ 'if-none-match': '*' })).statusCode).toBe(304);
    expect((await get({ 'if-modified-since': new Date().toUTCString() })).statusCode).toBe(304);
    const older = new Date(Date.now() - 2 * 86_400_000).toUTCString();
    expect((await get({ 'if-modified-since': older })).statusCode).toBe(200);
    expect(calls()).toBe(1);
    // The upstream never saw the kiosk's conditionals: it must send the whole response.
    expect(up.attempts[0]?.headers['if-none-match']).toBeUndefined();
  });

  it('Range on a stored body answers 206 with those bytes; unsatisfiable is 416; a stale If-Range gets 200', async () => {
    await start(() => ({ headers: { etag: '"r1"', 'cache-control': 'max-age=600' }, body: BODY }));
    await get();
    const r = await get({ range: 'bytes=0-9' });
    expect(r.statusCode).toBe(206);
    expect(r.body).toBe('abcdefghij');
    expect(r.headers['content-length']).toBe('10');
    expect(r.headers['content-range']).toBe(`bytes 0-9/${BODY.length}`);
    expect((await get({ range: 'bytes=-3' })).body).toBe('xyz');
    const bad = await get({ range: 'bytes=100-' });
    expect(bad.statusCode).toBe(416);
    expect(bad.headers['content-range']).toBe(`bytes */${BODY.length}`);
    expect((await get({ range: 'bytes=0-1', 'if-range': '"r1"' })).statusCode).toBe(206);
    expect((await get({ range: 'bytes=0-1', 'if-range': '"old"' })).statusCode).toBe(200);
    expect(calls()).toBe(1);
    expect(up.attempts[0]?.headers.range).toBeUndefined();
  });

  it('Range on a large body streamed from its file cuts the file, not memory', async () => {
    const big = Buffer.alloc(300 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = i % 251;
    up.handler = () => ({ headers: { 'cache-control': 'max-age=600' }, body: big });
    gw = await startCache(
      testConfig(dir.path, {
        memory_mb: 0,
        upstreams: [{ name: 'layanan', base_url: `${up.url}/api`, timeout_ms: 1500 }],
      }),
      clock,
    );
    await get({}, '/svc/layanan/form.pdf');
    const r = await gw.app.inject({
      method: 'GET',
      url: '/svc/layanan/form.pdf',
      headers: { ...AUTH, range: 'bytes=200000-200009' },
    });
    expect(r.statusCode).toBe(206);
    expect(r.headers['x-cache']).toBe('HIT');
    expect(r.rawPayload.equals(big.subarray(200000, 200010))).toBe(true);
    expect(r.headers['content-range']).toBe(`bytes 200000-200009/${big.length}`);
  });

  it('stale-if-error allows a stale copy on a 5xx even past must-revalidate, within its bound (RFC 5861 4)', async () => {
    await start(() => ({
      headers: { 'cache-control': 'max-age=1, must-revalidate, stale-if-error=60' },
      body: BODY,
    }));
    await get();
    clock.advance(1100);
    up.handler = () => ({ status: 503, body: 'maintenance' });
    const r = await get();
    expect(r.headers['x-cache']).toBe('STALE');
    expect(r.headers['x-stale-reason']).toBe('stale-if-error');
    expect(r.body).toBe(BODY);
  });

  it('stale-while-revalidate: the stale copy at once, the revalidation behind it (RFC 5861 3)', async () => {
    let v = 1;
    await start(() => ({
      headers: { 'cache-control': 'max-age=1, stale-while-revalidate=60' },
      body: `v${v}`,
    }));
    await get();
    clock.advance(1100);
    v = 2;
    const r = await get();
    expect(r.headers['x-cache']).toBe('STALE');
    expect(r.headers['x-stale-reason']).toBe('stale-while-revalidate');
    expect(r.body).toBe('v1');
    await waitFor(() => calls() === 2, 3000);
    await waitFor(async () => (await get()).body === 'v2', 3000);
  });
});
