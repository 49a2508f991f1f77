import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/schema.js';
import { readLiveSnapshot } from '../../src/store/live-snapshot.js';
import { tempDir } from '../helpers/tmp.js';
import { AUTH, startCache, testConfig } from './harness.js';
import { TestUpstream } from './test-upstream.js';

type Ctx = Awaited<ReturnType<typeof startCache>>;
const KB = 1024;

/** Deterministic body per path and version, of the size the path asks for (?kb=N). */
function bodyFor(url: string, version: number): Buffer {
  const kb = Number(new URL(url, 'http://x').searchParams.get('kb') ?? '2');
  const b = Buffer.alloc(kb * KB, `${url}#${version}|`);
  return b;
}

describe('cache storage', () => {
  let dir: ReturnType<typeof tempDir>;
  let up: TestUpstream;
  let gw: Ctx | undefined;
  let version = 1;
  let config: Config;

  beforeEach(async () => {
    dir = tempDir('kgw-cstore-');
    version = 1;
    up = new TestUpstream((req) => {
      const etag = `"${req.url}-${version}"`;
      if (req.headers['if-none-match'] === etag) return { status: 304, headers: { etag } };
      return { headers: { etag, 'content-type': 'application/pdf' }, body: bodyFor(req.url ?? '', version) };
    });
    await up.start();
  });

  afterEach(async () => {
    await gw?.stop();
    gw = undefined;
    await up.stop();
    dir.cleanup();
  });

  const start = async (cache: Record<string, unknown> = {}, upstream: Record<string, unknown> = {}) => {
    config = testConfig(dir.path, {
      max_mb: 16,
      ...cache,
      upstreams: [{ name: 'layanan', base_url: `${up.url}/api`, ttl_s: 3600, ...upstream }],
    });
    gw = await startCache(config);
    return gw;
  };
  const get = (url: string) => gw!.app.inject({ method: 'GET', url, headers: AUTH });
  const cacheFiles = () => readdirSync(join(config.data_dir, 'cache'));

  it('stores PDFs of any size (large ones as files) and serves them byte for byte', async () => {
    await start();
    const small = await get('/svc/layanan/form.pdf?kb=8');
    const big = await get('/svc/layanan/form.pdf?kb=700');
    expect(big.rawPayload.equals(bodyFor('/api/form.pdf?kb=700', 1))).toBe(true);
    expect(cacheFiles()).toHaveLength(1);
    await gw!.stop();
    gw = await startCache(config);
    const big2 = await get('/svc/layanan/form.pdf?kb=700');
    expect(big2.headers['x-cache']).toBe('HIT');
    expect(big2.headers['content-type']).toBe('application/pdf');
    expect(big2.rawPayload.equals(big.rawPayload)).toBe(true);
    expect((await get('/svc/layanan/form.pdf?kb=8')).rawPayload.equals(small.rawPayload)).toBe(true);
  });

  it('LRU eviction keeps the cache under max_mb', async () => {
    await start({ max_mb: 1 });
    for (let i = 0; i < 30; i++) {
      await get(`/svc/layanan/doc-${i}?kb=100`);
      // Keep doc-0 in use: it must survive as the most recently used.
      if (i % 3 === 0) await get('/svc/layanan/doc-0?kb=100');
    }
    const live = gw!.cache.live();
    expect(live.bytes).toBeLessThanOrEqual(1024 * KB);
    expect(live.entries).toBeGreaterThan(5);
    expect(live.entries).toBeLessThan(11);
    expect(cacheFiles().length).toBe(live.entries);
    const sizes = gw!.store.db.prepare('SELECT SUM(body_size) AS s FROM cache_entries').get() as {
      s: number;
    };
    expect(sizes.s).toBeLessThanOrEqual(1024 * KB);
    expect((await get('/svc/layanan/doc-0?kb=100')).headers['x-cache']).toBe('HIT');
    expect((await get('/svc/layanan/doc-29?kb=100')).headers['x-cache']).toBe('HIT');
    expect((await get('/svc/layanan/doc-1?kb=100')).headers['x-cache']).toBe('MISS');
  });

  it('a damaged body (BLOB or file) is dropped and refetched, never served', async () => {
    await start();
    await get('/svc/layanan/small?kb=4');
    await get('/svc/layanan/large?kb=300');
    await gw!.stop();
    // Flip bytes on "disk": the inline BLOB in SQLite and the body file.
    const { default: Database } = await import('better-sqlite3');
    const db = new Database(join(config.data_dir, 'gateway.db'));
    db.prepare(
      `UPDATE cache_entries SET body = CAST(replace(CAST(body AS TEXT), 'small', 'SMALL') AS BLOB) WHERE key LIKE '%small%'`,
    ).run();
    db.close();
    const file = join(config.data_dir, 'cache', cacheFiles()[0]!);
    const bytes = readFileSync(file);
    bytes[1000] = (bytes[1000]! + 1) % 256;
    writeFileSync(file, bytes);
    version = 2;
    gw = await startCache(config);
    for (const path of ['/svc/layanan/small?kb=4', '/svc/layanan/large?kb=300']) {
      const r = await get(path);
      expect(r.headers['x-cache']).toBe('MISS');
      expect(r.rawPayload.equals(bodyFor(path.replace('/svc/layanan', '/api'), 2))).toBe(true);
    }
    expect(up.attempts.filter((a) => a.headers['if-none-match']).length).toBe(0);
  });

  it('a body too large for the hot set is streamed from its checked file on HIT; damage is never served', async () => {
    // memory_mb 1: the hot set keeps bodies up to 256 KiB, so 700 KiB is read from its file per HIT.
    await start({ memory_mb: 1 });
    const path = '/svc/layanan/besar.pdf?kb=700';
    const want = bodyFor('/api/besar.pdf?kb=700', 1);
    expect((await get(path)).headers['x-cache']).toBe('MISS');
    const fds = () => readdirSync('/proc/self/fd').length;
    const fdsBefore = fds();
    for (let i = 0; i < 10; i++) {
      const hit = await get(path);
      expect(hit.headers['x-cache']).toBe('HIT');
      expect(hit.headers['content-length']).toBe(String(700 * KB));
      expect(hit.rawPayload.equals(want)).toBe(true);
      const head = await gw!.app.inject({ method: 'HEAD', url: path, headers: AUTH });
      expect(head.headers['content-length']).toBe(String(700 * KB));
      expect(head.body).toBe('');
      const etag = String(hit.headers.etag);
      const cond = await gw!.app.inject({
        method: 'GET',
        url: path,
        headers: { ...AUTH, 'if-none-match': etag },
      });
      expect(cond.statusCode).toBe(304);
    }
    // Every opened body file was closed again (HEAD, 304 and full answers alike).
    expect(fds() - fdsBefore).toBeLessThan(5);
    expect(gw!.cache.live().upstreams.layanan?.hits).toBe(30);

    // A flipped byte in the file while the daemon runs: dropped and refetched, never served.
    const file = join(config.data_dir, 'cache', cacheFiles()[0]!);
    const bytes = readFileSync(file);
    bytes[500 * KB] = (bytes[500 * KB]! + 1) % 256;
    writeFileSync(file, bytes);
    version = 2;
    const after = await get(path);
    expect(after.headers['x-cache']).toBe('MISS');
    expect(after.rawPayload.equals(bodyFor('/api/besar.pdf?kb=700', 2))).toBe(true);
  });

  it('refreshCache() prefetches with conditional requests; wipe() deletes every body', async () => {
    await start({}, { prefetch: ['/katalog', '/formulir?kb=200'], prefetch_cron: '0 3 * * *' });
    const first = await gw!.cache.refreshCache();
    expect(first.layanan).toEqual({ fetched: 2, not_modified: 0, failed: 0 });
    const second = await gw!.cache.refreshCache();
    expect(second.layanan).toEqual({ fetched: 0, not_modified: 2, failed: 0 });
    expect(up.attempts.slice(2).every((a) => a.headers['if-none-match'])).toBe(true);
    expect((await get('/svc/layanan/katalog')).headers['x-cache']).toBe('HIT');
    expect(gw!.cache.live().upstreams.layanan?.last_refresh).toMatch(/^\d{4}-/);
    gw!.setLink('down');
    expect((await gw!.cache.refreshCache()).layanan?.skipped).toBe('link down');
    gw!.setLink('up');

    expect(gw!.cache.wipe()).toEqual({ entries_removed: 2 });
    expect(cacheFiles()).toEqual([]);
    expect(gw!.store.db.prepare('SELECT COUNT(*) AS n FROM cache_entries').get()).toEqual({ n: 0 });
    expect((await get('/svc/layanan/katalog')).headers['x-cache']).toBe('MISS');
  });

  it('status section: SPEC shape, persisted at stop and seeded at start', async () => {
    await start();
    await get('/svc/layanan/a');
    await get('/svc/layanan/a');
    const live = gw!.cache.live();
    expect(live).toMatchObject({
      entries: 1,
      upstreams: { layanan: { hits: 1, misses: 1, stale: 0, last_refresh: null, revalidated: 0 } },
      outbound: { depth: 0, bytes: 0 },
    });
    expect(live.upstreams.layanan?.bytes_saved).toBe(2 * KB);
    await gw!.stop();
    gw = undefined;
    // Kept in the live snapshot of the runtime directory, which a restart finds again.
    const saved = readLiveSnapshot(join(config.data_dir, 'run')).cache as { value: typeof live } | undefined;
    expect(saved?.value.upstreams.layanan?.hits).toBe(1);
    gw = await startCache(config);
    await get('/svc/layanan/a');
    expect(gw.cache.live().upstreams.layanan?.hits).toBe(2);
  });
});
