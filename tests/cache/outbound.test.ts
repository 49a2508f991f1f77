import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/net.js';
import { tempDir } from '../helpers/tmp.js';
import { AUTH, startCache, testConfig } from './harness.js';
import { TestUpstream } from './test-upstream.js';

type Ctx = Awaited<ReturnType<typeof startCache>>;

describe('/svc offline writes', () => {
  let dir: ReturnType<typeof tempDir>;
  let up: TestUpstream;
  let gw: Ctx | undefined;

  beforeEach(async () => {
    dir = tempDir('kgw-cout-');
    up = new TestUpstream((req, body) => ({
      status: 201,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ key: req.headers['idempotency-key'], got: body.toString() }),
    }));
    await up.start();
  });

  afterEach(async () => {
    await gw?.stop();
    gw = undefined;
    await up.stop();
    dir.cleanup();
  });

  const start = async (upstream: Record<string, unknown> = {}, outbound: Record<string, unknown> = {}) => {
    const config = testConfig(dir.path, {
      outbound: { max_backoff_s: 1, ...outbound },
      upstreams: [
        { name: 'layanan', base_url: `${up.url}/api`, offline_writes: true, timeout_ms: 500, ...upstream },
      ],
    });
    gw = await startCache(config);
    return gw;
  };
  const post = (key: string | undefined, payload: unknown, path = '/svc/layanan/permohonan') =>
    gw!.app.inject({
      method: 'POST',
      url: path,
      headers: { ...AUTH, 'content-type': 'application/json', ...(key ? { 'idempotency-key': key } : {}) },
      payload: JSON.stringify(payload),
    });

  it('forwards while the upstream answers and relays its status and body', async () => {
    await start();
    const r = await post('k-1', { layanan: 'ktp' });
    expect(r.statusCode).toBe(201);
    expect(r.json()).toEqual({ key: 'k-1', got: '{"layanan":"ktp"}' });
    expect(up.attempts[0]?.headers.authorization).toBeUndefined();
    expect(up.attempts[0]?.headers['content-type']).toBe('application/json');
    const put = await gw!.app.inject({
      method: 'PUT',
      url: '/svc/layanan/permohonan/7',
      headers: { ...AUTH, 'idempotency-key': 'k-2', 'content-type': 'text/plain' },
      payload: 'x',
    });
    expect(put.statusCode).toBe(201);
    expect(up.attempts[1]?.method).toBe('PUT');
  });

  it('refuses a write without Idempotency-Key with 428, and without a token with 401', async () => {
    await start();
    const r = await post(undefined, {});
    expect(r.statusCode).toBe(428);
    expect(r.json().error).toBe('GW_ERR_IDEMPOTENCY_KEY_REQUIRED');
    const noAuth = await gw!.app.inject({
      method: 'POST',
      url: '/svc/layanan/x',
      headers: { 'idempotency-key': 'a' },
    });
    expect(noAuth.statusCode).toBe(401);
    expect(up.attempts).toHaveLength(0);
  });

  it('queues while the upstream is down (202 + Location), delivers once it is back, reports the result', async () => {
    await start();
    await up.stop();
    const r = await post('k-9', { n: 9 });
    expect(r.statusCode).toBe(202);
    const location = String(r.headers.location);
    expect(location).toMatch(/^\/api\/v1\/outbound\/[0-9a-f-]{36}$/);
    // A re-sent write with the same key is the same queued write.
    const again = await post('k-9', { n: 9 });
    expect(again.headers.location).toBe(location);
    const q = await gw!.app.inject({ method: 'GET', url: location, headers: AUTH });
    expect(q.json()).toMatchObject({ state: 'queued', upstream: 'layanan', response: null });
    expect(gw!.cache.live().outbound.depth).toBe(1);
    await up.start();
    const done = await waitFor(async () => {
      const s = (await gw!.app.inject({ method: 'GET', url: location, headers: AUTH })).json();
      return s.state === 'delivered' ? s : undefined;
    }, 10_000);
    expect(done.response).toMatchObject({ status: 201, encoding: 'utf8' });
    expect(JSON.parse(done.response.body)).toEqual({ key: 'k-9', got: '{"n":9}' });
    expect(up.attempts.filter((a) => a.headers['idempotency-key'] === 'k-9')).toHaveLength(1);
    expect(gw!.cache.live().upstreams.layanan).toMatchObject({ outbound_queued: 1, outbound_delivered: 1 });
    const body = gw!.store.db.prepare('SELECT body FROM outbound').get() as { body: Buffer | null };
    expect(body.body).toBeNull();
    const other = await gw!.app.inject({
      method: 'GET',
      url: '/api/v1/outbound/00000000-0000-0000-0000-000000000000',
      headers: AUTH,
    });
    expect(other.statusCode).toBe(404);
  });

  it('link verdict down: queued without any upstream attempt; retried when the link comes back', async () => {
    await start();
    gw!.setLink('down');
    expect((await post('a', 1)).statusCode).toBe(202);
    expect((await post('b', 2)).statusCode).toBe(202);
    expect(up.attempts).toHaveLength(0);
    gw!.setLink('up');
    await waitFor(() => up.attempts.length === 2, 5000);
    expect(up.attempts.map((a) => a.headers['idempotency-key'])).toEqual(['a', 'b']);
  });

  it('offline_writes off: 504 instead of queueing; a full queue answers 507', async () => {
    await start({ offline_writes: false });
    await up.stop();
    const r = await post('x', 1);
    expect(r.statusCode).toBe(504);
    await gw!.stop();
    gw = undefined;
    await start({}, { max_items: 2 });
    expect((await post('q1', 1)).statusCode).toBe(202);
    expect((await post('q2', 2)).statusCode).toBe(202);
    const full = await post('q3', 3);
    expect(full.statusCode).toBe(507);
    expect(full.json().error).toBe('GW_ERR_QUEUE_FULL');
  });

  it('a write that keeps failing is marked failed after max_tries and the lane moves on', async () => {
    await start({}, { max_tries: 2 });
    const alerts: string[] = [];
    gw!.bus.on('alert', (a) => alerts.push(a.code));
    up.handler = (req) =>
      req.headers['idempotency-key'] === 'bad' ? { status: 503 } : { status: 200, body: 'ok' };
    gw!.setLink('down');
    const bad = await post('bad', 1);
    await post('good', 2);
    gw!.setLink('up');
    await waitFor(() => up.attempts.some((a) => a.headers['idempotency-key'] === 'good'), 8000);
    const s = (
      await gw!.app.inject({ method: 'GET', url: String(bad.headers.location), headers: AUTH })
    ).json();
    expect(s).toMatchObject({ state: 'failed', tries: 2, last_error: 'status 503' });
    expect(up.attempts.map((a) => a.headers['idempotency-key'])).toEqual(['bad', 'bad', 'good']);
    expect(alerts).toEqual(['outbound_write_failed']);
    // Re-sending a finished write's key tells its real state, never queues it again.
    const again = await post('bad', 1);
    expect(again.statusCode).toBe(202);
    expect(again.json()).toMatchObject({ state: 'failed', location: bad.headers.location });
  });
});
