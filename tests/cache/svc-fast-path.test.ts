import { connect } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../helpers/fake-clock.js';
import { tempDir } from '../helpers/tmp.js';
import { startCache, TOKEN, testConfig } from './harness.js';
import { TestUpstream } from './test-upstream.js';

type Ctx = Awaited<ReturnType<typeof startCache>>;

const BODY = Buffer.alloc(2048, 'katalog layanan desa. ');

/** The whole response as bytes on the wire (latin1), read until the gateway closes. */
function wire(origin: string, head: string[]): Promise<string> {
  const port = Number(new URL(origin).port);
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('end', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.on('error', reject);
    socket.write(`${head.join('\r\n')}\r\n\r\n`);
  });
}
const request = (method: string, path: string, extra: string[] = []) => [
  `${method} ${path} HTTP/1.1`,
  'Host: 127.0.0.1',
  `Authorization: Bearer ${TOKEN}`,
  'Connection: close',
  ...extra,
];
/** Node's Date field is the only one that may differ between two answers of the same hit. */
const withoutDate = (s: string) => s.replace(/^Date: [^\r]*\r\n/m, '');

describe('/svc fast path: a plain fresh hit answered before fastify', () => {
  let dir: ReturnType<typeof tempDir>;
  let clock: FakeClock;
  let up: TestUpstream;
  const gateways: Ctx[] = [];

  beforeEach(async () => {
    clock = new FakeClock({ wall: Date.now() });
    dir = tempDir('kgw-fastpath-');
    up = new TestUpstream((req) => {
      const url = req.url ?? '';
      if (url.startsWith('/api/kosong')) return { status: 204, headers: { 'cache-control': 'max-age=60' } };
      return {
        headers: {
          'content-type': 'application/json',
          'cache-control': 'max-age=60',
          etag: '"k1"',
          'last-modified': 'Fri, 27 Nov 2026 03:00:00 GMT',
          'x-layanan': 'katalog',
        },
        body: BODY,
      };
    });
    up.clock = clock;
    await up.start();
  });

  afterEach(async () => {
    for (const gw of gateways.splice(0)) await gw.stop();
    await up.stop();
    dir.cleanup();
  });

  const start = async (name: string, opts: { fastPath?: boolean; listen?: boolean; throttle?: boolean }) => {
    const config = testConfig(`${dir.path}`, {
      max_mb: 16,
      upstreams: [{ name: 'layanan', base_url: `${up.url}/api`, ttl_s: 60, timeout_ms: 400 }],
    });
    const gw = await startCache(
      { ...config, data_dir: `${config.data_dir}-${name}` },
      clock,
      undefined,
      opts,
    );
    gateways.push(gw);
    return gw;
  };
  const get = (gw: Ctx, path: string, headers: Record<string, string> = {}, method = 'GET') =>
    fetch(`${gw.origin}${path}`, { method, headers: { authorization: `Bearer ${TOKEN}`, ...headers } });

  it('answers a hit with the bytes the route answers it with (Date aside), GET and HEAD', async () => {
    const fast = await start('fast', { fastPath: true });
    const route = await start('route', { listen: true });
    for (const gw of [fast, route]) {
      const miss = await wire(gw.origin, request('GET', '/svc/layanan/katalog?desa=kemiren'));
      expect(miss).toMatch(/^X-Cache: MISS\r$/im);
    }
    // An Age other than 0, the same on both (one clock).
    clock.advance(7_000);
    for (const method of ['GET', 'HEAD']) {
      const a = await wire(fast.origin, request(method, '/svc/layanan/katalog?desa=kemiren'));
      const b = await wire(route.origin, request(method, '/svc/layanan/katalog?desa=kemiren'));
      expect(a).toMatch(/^x-cache: HIT\r$/m);
      expect(a).toMatch(/^age: 7\r$/m);
      expect(a).toMatch(/^via: 1\.1 kampung-gw\r$/m);
      expect(a).toMatch(/^x-data-date: \d{4}-\d\d-\d\dT[^\r]+Z\r$/m);
      expect(withoutDate(a)).toBe(withoutDate(b));
      if (method === 'GET') expect(a.endsWith(`\r\n\r\n${BODY.toString('latin1')}`)).toBe(true);
      else expect(a.endsWith('\r\n\r\n')).toBe(true);
    }
    // The fast path answered both hits; the route's gateway has none, and both counted alike.
    expect(fast.hits.answered).toBe(2);
    expect(route.hits.answered).toBe(0);
    expect(fast.cache.live().upstreams.layanan).toEqual(route.cache.live().upstreams.layanan);
    expect(fast.cache.live().upstreams.layanan?.hits).toBe(2);
    expect(up.count('/api/katalog')).toBe(2);
  });

  it('leaves every other request to the route, which answers as it does without the fast path', async () => {
    const fast = await start('fast', { fastPath: true });
    const route = await start('route', { listen: true });
    /** What a kiosk sees of one answer: status, the cache's headers, the body. */
    const seen = async (gw: Ctx, path: string, headers: Record<string, string> = {}, method = 'GET') => {
      const r = await get(gw, path, headers, method);
      const h = (n: string) => r.headers.get(n);
      return {
        path,
        headers,
        status: r.status,
        fields: [h('x-cache'), h('age'), h('content-range'), h('content-length'), h('etag'), h('warning')],
        body: Buffer.from(await r.arrayBuffer()).toString('latin1'),
      };
    };
    const both = async (path: string, headers: Record<string, string> = {}, method = 'GET') => {
      const a = await seen(fast, path, headers, method);
      expect(a).toEqual(await seen(route, path, headers, method));
      return a;
    };
    const path = '/svc/layanan/katalog';
    expect((await both(path)).fields[0]).toBe('MISS');
    expect((await both(path)).fields[0]).toBe('HIT');
    expect(fast.hits.answered).toBe(1);

    const requests: Array<[string, Record<string, string>]> = [
      [path, { 'if-none-match': '"k1"' }],
      [path, { 'if-modified-since': 'Sat, 28 Nov 2026 03:00:00 GMT' }],
      [path, { range: 'bytes=0-9' }],
      [path, { range: 'bytes=99999-' }],
      [path, { 'cache-control': 'max-stale=0' }],
      [path, { pragma: 'no-cache' }],
      [path, { authorization: 'Bearer wrong-token-0123456789' }],
      [path, { authorization: '' }],
      // The upstream segment spelled otherwise routes to the same upstream, through the route.
      ['/svc/%6Cayanan/katalog', {}],
      ['/svc/lain/katalog', {}],
      ['/svc/layanan', {}],
      ['/svc/layanan/warga/3510170101010001', {}],
      ['/svc/layanan/a%2Fb', {}],
      // A 204 entry keeps the route's bodiless answer.
      ['/svc/layanan/kosong', {}],
      ['/svc/layanan/kosong', {}],
    ];
    const statuses: number[] = [];
    for (const [p, headers] of requests) statuses.push((await both(p, headers)).status);
    expect(statuses).toEqual([304, 304, 206, 416, 200, 200, 401, 401, 200, 404, 404, 422, 400, 204, 204]);
    expect(fast.hits.answered).toBe(1);

    // Stale: the route revalidates.
    clock.advance(61_000);
    expect((await both(path)).fields[0]).not.toBe('HIT');
    expect(fast.hits.answered).toBe(1);
    // Fresh again: the fast path is back, GET and HEAD.
    expect((await both(path)).fields[0]).toBe('HIT');
    expect((await both(path, {}, 'HEAD')).body).toBe('');
    expect(fast.hits.answered).toBe(3);
    expect(fast.cache.live().upstreams.layanan).toEqual(route.cache.live().upstreams.layanan);
    expect(fast.auth.counters()).toEqual(route.auth.counters());
  });

  it('refuses a wrong or missing token once per request (401), then the address (429)', async () => {
    const gw = await start('fast', { fastPath: true, throttle: true });
    const path = '/svc/layanan/katalog';
    await get(gw, path);
    expect((await get(gw, path)).headers.get('x-cache')).toBe('HIT');
    const none = await fetch(`${gw.origin}${path}`);
    expect(none.status).toBe(401);
    expect(await none.json()).toMatchObject({ error: 'GW_ERR_UNAUTHORIZED' });
    expect(gw.auth.counters().device_auth_failures).toBe(1);
    // DEVICE_TOKEN_POLICY: 10 wrong tokens from one address block it.
    for (let i = 1; i <= 10; i++) {
      const r = await get(gw, path, { authorization: 'Bearer wrong-token-0123456789' });
      expect(r.status).toBe(401);
      expect(gw.auth.counters().device_auth_failures).toBe(1 + i);
    }
    const blocked = await get(gw, path);
    expect(blocked.status).toBe(429);
    expect(await blocked.json()).toMatchObject({ error: 'GW_ERR_RATE_LIMITED' });
    expect(gw.auth.counters().device_auth_throttled).toBe(1);
    expect(gw.hits.answered).toBe(1);
    expect(gw.cache.live().upstreams.layanan?.hits).toBe(1);
  });
});
