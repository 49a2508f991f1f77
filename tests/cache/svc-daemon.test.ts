import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MAIN_JS, TestDaemon } from '../helpers/daemon.js';
import { tempDir } from '../helpers/tmp.js';
import { TestUpstream } from './test-upstream.js';

const TOKEN = 'svc-daemon-token-7';

describe('/svc in the real daemon', () => {
  const tmp = tempDir('kgw-csvc-');
  let daemon: TestDaemon | undefined;
  const up = new TestUpstream(() => ({
    headers: { 'cache-control': 'max-age=600', 'content-type': 'text/plain' },
    body: 'katalog',
  }));

  afterAll(async () => {
    await daemon?.dispose();
    await up.stop();
    tmp.cleanup();
  });

  it('serves MISS then HIT, survives a restart from disk, and `kampung-gw status` shows the cache section', async () => {
    await up.start();
    const dir = join(tmp.path, 'gw');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'k.token'), TOKEN);
    daemon = new TestDaemon({
      dir,
      config: {
        devices: [{ id: 'adm-1', name: 'Kiosk', kind: 'kiosk', token_file: join(dir, 'k.token') }],
        cache: { max_mb: 8, upstreams: [{ name: 'layanan', base_url: `${up.url}/api` }] },
      },
    });
    await daemon.start();
    const get = () =>
      fetch(`${daemon!.url}/svc/layanan/katalog`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect((await get()).headers.get('x-cache')).toBe('MISS');
    expect((await get()).headers.get('x-cache')).toBe('HIT');
    const stopped = await daemon.stop('SIGTERM');
    expect(stopped.code).toBe(0);
    const out = JSON.parse(
      execFileSync(process.execPath, [MAIN_JS, 'status', '--json', '--config', daemon.configPath], {
        encoding: 'utf8',
      }),
    );
    expect(out.cache).toMatchObject({ entries: 1, upstreams: { layanan: { hits: 1, misses: 1, stale: 0 } } });
    await up.stop();
    await daemon.start();
    const r = await get();
    expect(r.headers.get('x-cache')).toBe('HIT');
    expect(await r.text()).toBe('katalog');
  });
});
