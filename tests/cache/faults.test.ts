import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/tmp.js';
import { AUTH, JumpingClock, startCache, testConfig } from './harness.js';
import { TestUpstream } from './test-upstream.js';

type Ctx = Awaited<ReturnType<typeof startCache>>;

describe('/svc under faults and bad input', () => {
  let dir: ReturnType<typeof tempDir>;
  let up: TestUpstream;
  let gw: Ctx | undefined;

  beforeEach(async () => {
    dir = tempDir('kgw-cfault-');
    up = new TestUpstream(() => ({ headers: { 'cache-control': 'max-age=60' }, body: 'data' }));
    await up.start();
  });

  afterEach(async () => {
    await gw?.stop();
    gw = undefined;
    await up.stop();
    dir.cleanup();
  });

  const config = () =>
    testConfig(dir.path, {
      upstreams: [{ name: 'layanan', base_url: `${up.url}/api`, offline_writes: true, timeout_ms: 300 }],
    });
  const get = (url: string) => gw!.app.inject({ method: 'GET', url, headers: AUTH });

  it('freshness and Age follow the monotonic clock: wall-clock jumps neither expire nor extend entries', async () => {
    const clock = new JumpingClock();
    gw = await startCache(config(), clock);
    expect((await get('/svc/layanan/katalog')).headers['x-cache']).toBe('MISS');
    clock.wallOffsetMs = 365 * 86_400_000;
    const later = await get('/svc/layanan/katalog');
    expect(later.headers['x-cache']).toBe('HIT');
    expect(Number(later.headers.age)).toBeLessThan(5);
    clock.wallOffsetMs = -Date.now();
    expect((await get('/svc/layanan/katalog')).headers['x-cache']).toBe('HIT');
    expect(up.attempts).toHaveLength(1);
  });

  it('malformed requests get 4xx, never 5xx, and reach no upstream', async () => {
    gw = await startCache(config());
    const cases: Array<{
      method: 'GET' | 'POST';
      url: string;
      headers?: Record<string, string>;
      payload?: string;
    }> = [
      { method: 'GET', url: '/svc/LAYANAN/x' },
      { method: 'GET', url: '/svc/layanan/%2e%2e/%2e%2e/etc/passwd' },
      { method: 'GET', url: `/svc/layanan/${'a'.repeat(3000)}` },
      { method: 'GET', url: '/svc/layanan/x', headers: { authorization: 'Bearer' } },
      { method: 'GET', url: '/svc/layanan/x', headers: { authorization: `Bearer ${'x'.repeat(5000)}` } },
      {
        method: 'POST',
        url: '/svc/layanan/x',
        headers: { ...AUTH, 'idempotency-key': 'has space' },
        payload: '{}',
      },
      {
        method: 'POST',
        url: '/svc/layanan/x',
        headers: { ...AUTH, 'idempotency-key': 'k'.repeat(201) },
        payload: '{}',
      },
      {
        method: 'POST',
        url: '/svc/layanan/x',
        headers: { ...AUTH, 'idempotency-key': 'big' },
        payload: 'x'.repeat(300 * 1024),
      },
      { method: 'GET', url: '/api/v1/outbound/not-a-uuid', headers: AUTH },
      { method: 'GET', url: '/api/v1/outbound/00000000-0000-0000-0000-000000000000' },
    ];
    for (const c of cases) {
      const r = await gw.app.inject({
        ...c,
        headers: { 'content-type': 'application/json', ...(c.headers ?? AUTH) },
      });
      expect(r.statusCode, `${c.method} ${c.url.slice(0, 60)}`).toBeGreaterThanOrEqual(400);
      expect(r.statusCode, `${c.method} ${c.url.slice(0, 60)}`).toBeLessThan(500);
      expect(r.json().error).toMatch(/^GW_ERR_/);
    }
    expect(up.attempts).toHaveLength(0);
  });

  it('an upstream that resets connections mid-body is treated as unreachable (stale or 504, no crash)', async () => {
    gw = await startCache(config());
    up.handler = () => 'drop';
    const r = await get('/svc/layanan/katalog');
    expect(r.statusCode).toBe(504);
    up.handler = () => ({ headers: { 'cache-control': 'max-age=0' }, body: 'v1' });
    expect((await get('/svc/layanan/katalog')).body).toBe('v1');
    up.handler = () => 'drop';
    const stale = await get('/svc/layanan/katalog');
    expect(stale.headers['x-cache']).toBe('STALE');
    expect(stale.body).toBe('v1');
  });

  it('an oversized upstream body is refused with 502, not buffered without bound', async () => {
    const c = config();
    gw = await startCache({ ...c, cache: { ...c.cache, max_mb: 1 } });
    up.handler = () => ({ body: Buffer.alloc(2 * 1024 * 1024, 'p') });
    const r = await get('/svc/layanan/huge.pdf');
    expect(r.statusCode).toBe(502);
    expect(r.json().error).toBe('GW_ERR_UPSTREAM_BAD_RESPONSE');
  });
});
