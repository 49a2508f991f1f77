import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/tmp.js';
import { AUTH, startCache, testConfig } from './harness.js';
import { TestUpstream } from './test-upstream.js';

const root = process.getuid?.() === 0;

/** data_dir on a real 2 MiB tmpfs that the test fills up: ENOSPC from the kernel, not a mock. */
describe.skipIf(!root)('/svc on a full disk', () => {
  const tmp = tempDir('kgw-cfull-');
  const mnt = join(tmp.path, 'mnt');
  const up = new TestUpstream((req) => ({
    headers: { 'cache-control': 'max-age=60' },
    body: Buffer.alloc(req.url?.includes('big') ? 400 * 1024 : 1024, 'z'),
  }));
  let gw: Awaited<ReturnType<typeof startCache>> | undefined;

  beforeAll(async () => {
    mkdirSync(mnt);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mnt]);
    await up.start();
  });

  afterAll(async () => {
    await gw?.stop();
    await up.stop();
    execFileSync('umount', ['-l', mnt]);
    tmp.cleanup();
  });

  it('still answers kiosks (MISS, not stored) and refuses queued writes with 507, never 5xx otherwise', async () => {
    const config = testConfig(tmp.path, {
      upstreams: [{ name: 'layanan', base_url: `${up.url}/api`, offline_writes: true, timeout_ms: 300 }],
    });
    gw = await startCache({ ...config, data_dir: join(mnt, 'data') });
    const filler = join(mnt, 'filler');
    // Fill the disk, leaving a little room for SQLite's existing pages only.
    try {
      writeFileSync(filler, Buffer.alloc(4 * 1024 * 1024));
    } catch {
      // ENOSPC: the file holds as much as fitted, which is the point.
    }
    const big = await gw.app.inject({ method: 'GET', url: '/svc/layanan/big.pdf', headers: AUTH });
    expect(big.statusCode).toBe(200);
    expect(big.headers['x-cache']).toBe('MISS');
    expect(big.rawPayload.length).toBe(400 * 1024);
    expect(gw.cache.live().entries).toBe(0);
    await up.stop();
    const queued = await gw.app.inject({
      method: 'POST',
      url: '/svc/layanan/permohonan',
      headers: { ...AUTH, 'idempotency-key': 'full-1', 'content-type': 'application/json' },
      payload: JSON.stringify({ pad: 'x'.repeat(100 * 1024) }),
    });
    expect(queued.statusCode).toBe(507);
    expect(queued.json().error).toBe('GW_ERR_STORE_FULL');
  });
});
