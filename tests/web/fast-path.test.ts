import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { buildServer } from '../../src/web/build-server.js';
import type { FastPath } from '../../src/web/fast-path.js';
import { memoryLogger } from '../helpers/test-log.js';

/** The socket settings a server got, from node's own fields. */
const settings = (s: import('node:http').Server) => ({
  keepAliveTimeout: s.keepAliveTimeout,
  requestTimeout: s.requestTimeout,
  headersTimeout: s.headersTimeout,
  timeout: s.timeout,
  maxRequestsPerSocket: s.maxRequestsPerSocket,
  maxHeadersCount: s.maxHeadersCount,
});

describe('fast paths in front of fastify (web/fast-path.ts)', () => {
  it('the server they need is set up as fastify sets up its own', () => {
    const plain = buildServer({ log: memoryLogger().log, dbOk: () => true });
    const fronted = buildServer({ log: memoryLogger().log, dbOk: () => true, fastPaths: [() => false] });
    expect(settings(fronted.server)).toEqual(settings(plain.server));
    expect(settings(fronted.server).requestTimeout).toBe(30_000);
    expect(settings(fronted.server).headersTimeout).toBe(10_000);
  });

  it('answers what a fast path takes; fastify answers the rest, as without it', async () => {
    let offered = 0;
    const fast: FastPath = (req, res) => {
      offered++;
      if (req.url !== '/fast') return false;
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '4' });
      res.end('fast');
      return true;
    };
    const app = buildServer({ log: memoryLogger().log, dbOk: () => true, fastPaths: [fast] });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    try {
      const a = await fetch(`${base}/fast`);
      expect([a.status, await a.text()]).toEqual([200, 'fast']);
      const b = await fetch(`${base}/healthz`);
      expect(b.status).toBe(200);
      const c = await fetch(`${base}/nothing-here`);
      expect([c.status, ((await c.json()) as { error: string }).error]).toEqual([404, 'GW_ERR_NOT_FOUND']);
      expect(offered).toBe(3);
    } finally {
      await app.close();
    }
  });

  it('a fast path that throws leaves the request to fastify, logged, instead of ending the process', async () => {
    const mem = memoryLogger('info');
    const app = buildServer({
      log: mem.log,
      dbOk: () => true,
      fastPaths: [
        () => {
          throw new Error('disk gone');
        },
      ],
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const r = await fetch(`http://127.0.0.1:${(app.server.address() as AddressInfo).port}/healthz`);
      expect(r.status).toBe(200);
      expect(mem.lines().find((l) => l.msg === 'fast path failed')).toMatchObject({ url: '/healthz' });
    } finally {
      await app.close();
    }
  });
});
