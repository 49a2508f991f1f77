import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { normalizeSvcPath, svcPathMemo } from '../../src/cache/svc-path.js';
import { isGwError } from '../../src/core/errors.js';
import { tempDir } from '../helpers/tmp.js';
import { AUTH, startCache, testConfig } from './harness.js';
import { TestUpstream } from './test-upstream.js';

describe('normalizeSvcPath (RFC 3986 §6.2.2)', () => {
  const table: Array<[string, string]> = [
    ['/warga/123', '/warga/123'],
    ['/./warga/123', '/warga/123'],
    ['/x/../warga/123', '/warga/123'],
    ['//warga/', '/warga/'],
    ['/a///b//c', '/a/b/c'],
    ['/../../../warga', '/warga'],
    ['/a/b/..', '/a/'],
    ['/a/.', '/a/'],
    ['/%2e%2e/warga', '/warga'],
    ['/%2E/warga/%2e', '/warga/'],
    ['/%77arga/%31%32', '/warga/12'],
    ['/a%7e%5fb', '/a~_b'],
    ['/nama%20desa/%c3%a9', '/nama%20desa/%C3%A9'],
    ['/q?x=%2f&y=%7e&z=a/../b', '/q?x=%2F&y=~&z=a/../b'],
    ['', '/'],
    ['/', '/'],
  ];
  it.each(table)('%s → %s', (raw, normal) => {
    expect(normalizeSvcPath(raw)).toBe(normal);
    // Idempotent: normalising twice changes nothing.
    expect(normalizeSvcPath(normal)).toBe(normal);
  });

  const refused = [
    '/..%2fetc',
    '/..%2Fwarga',
    '/a%2fb',
    '/%252e%252e/warga',
    '/%25',
    '/a%5c..',
    '/a\\..\\b',
    '/a#b',
    '/a%zz',
    '/a%4',
  ];
  it.each(refused)('refuses %s with GW_ERR_VALIDATION', (raw) => {
    expect(() => normalizeSvcPath(raw)).toThrow();
    try {
      normalizeSvcPath(raw);
    } catch (err) {
      expect(isGwError(err, 'GW_ERR_VALIDATION')).toBe(true);
    }
  });
});

describe('svcPathMemo', () => {
  it('answers as normalizeSvcPath does, from the memo and after it was cleared', () => {
    // Two entries: the table overflows it several times.
    const memo = svcPathMemo(2);
    for (let round = 0; round < 3; round++)
      for (const raw of ['/warga/123', '/x/../warga/123', '/%77arga/%31%32', '/q?x=%2f&y=%7e', '', '/a/.'])
        expect(memo(raw)).toBe(normalizeSvcPath(raw));
  });

  it('refuses a refused path every time, and keeps no long keys', () => {
    const memo = svcPathMemo(4, 16);
    for (let i = 0; i < 3; i++) {
      expect(() => memo('/..%2fetc')).toThrow();
      expect(() => memo('/data/3510170101900001')).toThrow();
    }
    const long = `/${'a'.repeat(40)}/../b`;
    expect(memo(long)).toBe('/b');
    expect(memo(long)).toBe('/b');
  });
});

describe('prefetch paths in the config', () => {
  it('check-config refuses what a kiosk could not ask for', () => {
    const dir = tempDir('kgw-svcpath-cfg-');
    try {
      for (const p of ['/a%2fb', '/..%2F', '/%252e', '/a\\b', '/a#b', '/a%zz'])
        expect(
          () => testConfig(dir.path, { upstreams: [{ name: 'x', base_url: 'http://h/api', prefetch: [p] }] }),
          p,
        ).toThrow();
      expect(
        testConfig(dir.path, {
          upstreams: [{ name: 'x', base_url: 'http://h/api', prefetch: ['/a%20b?x=%2F'] }],
        }),
      ).toBeTruthy();
    } finally {
      dir.cleanup();
    }
  });
});

describe('/svc path rules on normalised and un-normalised forms', () => {
  let dir: ReturnType<typeof tempDir>;
  let up: TestUpstream;
  let gw: Awaited<ReturnType<typeof startCache>>;
  let port = 0;

  beforeEach(async () => {
    dir = tempDir('kgw-svcpath-');
    up = new TestUpstream((req) => ({
      headers: { 'cache-control': 'max-age=600', 'content-type': 'text/plain' },
      body: `body of ${req.url}`,
    }));
    await up.start();
    const config = testConfig(dir.path, {
      max_mb: 16,
      upstreams: [
        {
          name: 'layanan',
          base_url: `${up.url}/api`,
          ttl_s: 600,
          timeout_ms: 400,
          never_cache: ['/warga/'],
          prefetch: ['/./katalog//daftar', '/formulir/../formulir/%41'],
        },
      ],
    });
    gw = await startCache(config);
    await gw.app.listen({ host: '127.0.0.1', port: 0 });
    port = (gw.app.server.address() as AddressInfo).port;
  });
  afterEach(async () => {
    await gw.stop();
    await up.stop();
    dir.cleanup();
  });

  /** A real request whose path goes on the wire byte for byte (inject() would parse it). */
  const get = (path: string) =>
    new Promise<{ status: number; cache: string | undefined; body: string }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path, headers: AUTH }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            cache: res.headers['x-cache'] as string | undefined,
            body: Buffer.concat(chunks).toString(),
          }),
        );
      });
      req.on('error', reject);
      req.end();
    });

  it('never_cache holds for every spelling; each reaches the upstream as the normalised path', async () => {
    const spellings = [
      '/svc/layanan/warga/123',
      '/svc/layanan/./warga/123',
      '/svc/layanan/x/../warga/123',
      '/svc/layanan//warga/123',
      '/svc/layanan/.//./warga//123',
      '/svc/layanan/%77arga/123',
      '/svc/layanan/%2e%2e/warga/123',
      '/svc/layanan/x/%2E%2E/warga/123',
      '/svc/%6cayanan/warga/123',
    ];
    for (const path of spellings) {
      for (let i = 0; i < 2; i++) {
        const r = await get(path);
        expect(r.status, path).toBe(200);
        expect(r.cache, path).toBe('MISS');
        expect(r.body).toBe('body of /api/warga/123');
      }
    }
    expect(up.attempts.map((a) => a.url)).toEqual(
      spellings.flatMap(() => ['/api/warga/123', '/api/warga/123']),
    );
    expect(gw.store.db.prepare('SELECT key FROM cache_entries').all()).toEqual([]);
  });

  it('every spelling of a path shares one cache key', async () => {
    expect((await get('/svc/layanan/info/desa')).cache).toBe('MISS');
    for (const path of [
      '/svc/layanan/./info/desa',
      '/svc/layanan//info//desa',
      '/svc/layanan/info/x/../desa',
      '/svc/layanan/%69nfo/desa',
    ])
      expect((await get(path)).cache, path).toBe('HIT');
    expect(up.count('/api/info')).toBe(1);
  });

  it('never climbs out of base_url, and refuses encoded slashes, backslashes and percents', async () => {
    const r = await get('/svc/layanan/../../../../etc/passwd');
    expect(r.status).toBe(200);
    expect(r.body).toBe('body of /api/etc/passwd');
    for (const path of [
      '/svc/layanan/..%2f..%2fetc',
      '/svc/layanan/%252e%252e/x',
      '/svc/layanan/a%5c..%5cb',
      '/svc/layanan/..\\x',
    ]) {
      const bad = await get(path);
      expect(bad.status, path).toBe(400);
      expect(JSON.parse(bad.body).error).toBe('GW_ERR_VALIDATION');
    }
    expect(up.attempts.map((a) => a.url)).toEqual(['/api/etc/passwd']);
  });

  it('refuses a NIK-like run in the path, the query or an Idempotency-Key with 422, before the upstream sees it', async () => {
    const paths = [
      '/svc/layanan/warga/3510171234560001',
      '/svc/layanan/warga/%33%35%31%30171234560001',
      '/svc/layanan/warga/3510-1712-3456-0001',
      '/svc/layanan/cari?nik=3510+1712+3456+0001',
      '/svc/layanan/cari?nik=3510%E2%80%8B1712%E2%80%8B3456%E2%80%8B0001',
      '/svc/layanan/cari?q=%EF%BC%93510171234560001',
    ];
    for (const path of paths) {
      const r = await get(path);
      expect(r.status, path).toBe(422);
      expect(JSON.parse(r.body).error).toBe('GW_ERR_PII_REFUSED');
    }
    for (const key of ['3510171234560001', 'k-3510-1712-3456-0001']) {
      const w = await gw.app.inject({
        method: 'POST',
        url: '/svc/layanan/permohonan',
        headers: { ...AUTH, 'idempotency-key': key, 'content-type': 'application/json' },
        payload: '{}',
      });
      expect(w.statusCode, key).toBe(422);
    }
    expect(up.attempts).toHaveLength(0);
  });

  it('prefetch paths are normalised, so a prefetch fills the key kiosks read', async () => {
    await gw.cache.refreshCache('layanan');
    expect(up.attempts.map((a) => a.url).sort()).toEqual(['/api/formulir/A', '/api/katalog/daftar']);
    expect((await get('/svc/layanan/katalog/daftar')).cache).toBe('HIT');
    expect((await get('/svc/layanan/formulir/%41')).cache).toBe('HIT');
    expect(up.attempts).toHaveLength(2);
  });
});
