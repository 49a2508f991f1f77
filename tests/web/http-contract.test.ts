import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GwError } from '../../src/core/errors.js';
import { buildServer } from '../../src/web/build-server.js';
import { AUTH, startCache, testConfig } from '../cache/harness.js';
import { memoryLogger } from '../helpers/test-log.js';
import { tempDir } from '../helpers/tmp.js';

/** Raw bytes on a real socket; resolves with what came back and when the server closed it. */
function rawExchange(port: number, bytes: string | undefined, waitMs: number) {
  return new Promise<{ text: string; closedAfterMs: number | undefined }>((resolve) => {
    const t0 = performance.now();
    const s = connect(port, '127.0.0.1', () => {
      if (bytes !== undefined) s.write(bytes);
    });
    let text = '';
    s.on('data', (d) => {
      text += d.toString();
    });
    s.on('error', () => undefined);
    const timer = setTimeout(() => {
      s.destroy();
      resolve({ text, closedAfterMs: undefined });
    }, waitMs);
    s.on('close', () => {
      clearTimeout(timer);
      resolve({ text, closedAfterMs: performance.now() - t0 });
    });
  });
}

const bodyOf = (text: string) => JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4));

describe('HTTP contract faults', () => {
  let app: FastifyInstance;
  let port = 0;
  const mem = memoryLogger('info');

  beforeAll(async () => {
    app = buildServer({
      log: mem.log,
      dbOk: () => true,
      publicRoutes: [
        async (p) => {
          p.post('/test/echo', { schema: { body: { type: 'object' } } }, async () => ({ ok: true }));
          p.get('/test/busy', async () => {
            throw new GwError('GW_ERR_UNAVAILABLE');
          });
          p.get('/test/bug', async () => {
            throw new Error('a real bug');
          });
        },
      ],
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    port = (app.server.address() as AddressInfo).port;
  });
  afterAll(() => app.close());

  it('answers oversized headers 431 with the { error, message } JSON shape', async () => {
    const big = `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(40_000)}\r\n\r\n`;
    const r = await rawExchange(port, big, 5_000);
    expect(r.text.startsWith('HTTP/1.1 431 ')).toBe(true);
    expect(r.text).toMatch(/content-type: application\/json/i);
    expect(bodyOf(r.text)).toEqual({ error: 'GW_ERR_HEADERS_TOO_LARGE', message: expect.any(String) });
  });

  it('answers text/plain bodies 415 like form and multipart bodies', async () => {
    for (const type of [
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
    ]) {
      const r = await app.inject({
        method: 'POST',
        url: '/test/echo',
        headers: { 'content-type': type },
        payload: 'a=b',
      });
      expect(r.statusCode, type).toBe(415);
      expect(r.json()).toEqual({ error: 'GW_ERR_UNSUPPORTED_MEDIA', message: expect.any(String) });
    }
    const json = await app.inject({ method: 'POST', url: '/test/echo', payload: { a: 1 } });
    expect(json.statusCode).toBe(200);
  });

  it('closes a socket that sends nothing and one that sends half a header (408, JSON), within 15 s', async () => {
    const [silent, half] = await Promise.all([
      rawExchange(port, undefined, 20_000),
      rawExchange(port, 'GET /healthz HTTP/1.1\r\nHost: x\r\n', 20_000),
    ]);
    for (const r of [silent, half]) {
      expect(r.closedAfterMs).toBeDefined();
      expect(r.closedAfterMs).toBeLessThan(15_000);
      expect(r.text.startsWith('HTTP/1.1 408 ')).toBe(true);
      expect(bodyOf(r.text).error).toBe('GW_ERR_REQUEST_TIMEOUT');
    }
  }, 30_000);

  it('closes an idle keep-alive socket after its answer', async () => {
    const r = await rawExchange(port, 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n', 20_000);
    expect(r.text.startsWith('HTTP/1.1 200 ')).toBe(true);
    expect(r.closedAfterMs).toBeDefined();
    expect(r.closedAfterMs).toBeLessThan(10_000);
  }, 30_000);

  it('logs an expected 503 at info without a stack, a bug at error with one', async () => {
    expect((await app.inject({ url: '/test/busy' })).statusCode).toBe(503);
    expect((await app.inject({ url: '/test/bug' })).statusCode).toBe(500);
    const busy = mem.lines().filter((l) => l.url === '/test/busy');
    expect(busy).toHaveLength(1);
    expect(busy[0]).toMatchObject({ level: 'info', code: 'GW_ERR_UNAVAILABLE', status: 503 });
    expect(JSON.stringify(busy[0])).not.toMatch(/stack/);
    const bug = mem.lines().filter((l) => l.url === '/test/bug');
    expect(bug).toHaveLength(1);
    expect(bug[0]?.level).toBe('error');
    expect(JSON.stringify(bug[0])).toMatch(/stack/);
  });
});

describe('an unreachable /svc upstream', () => {
  it('answers 504 and logs one short info line, no stack', async () => {
    const dir = tempDir('kgw-contract-');
    const mem = memoryLogger('info');
    // A port nothing listens on: bind one, note it, close it.
    const probe = buildServer({ log: mem.log, dbOk: () => true });
    await probe.listen({ host: '127.0.0.1', port: 0 });
    const deadPort = (probe.server.address() as AddressInfo).port;
    await probe.close();
    const config = testConfig(dir.path, {
      upstreams: [{ name: 'layanan', base_url: `http://127.0.0.1:${deadPort}/api`, timeout_ms: 300 }],
    });
    const gw = await startCache(config, undefined, mem.log);
    try {
      const r = await gw.app.inject({ url: '/svc/layanan/katalog', headers: AUTH });
      expect(r.statusCode).toBe(504);
      expect(r.json().error).toBe('GW_ERR_UPSTREAM_UNAVAILABLE');
      const lines = mem
        .lines()
        .filter((l) => l.code === 'GW_ERR_UPSTREAM_UNAVAILABLE' || l.msg === 'request failed');
      expect(lines).toHaveLength(1);
      expect(lines[0]?.level).toBe('info');
      expect(JSON.stringify(lines[0]).length).toBeLessThan(300);
    } finally {
      await gw.stop();
      dir.cleanup();
    }
  });
});
