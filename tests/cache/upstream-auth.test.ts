import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/tmp.js';
import { AUTH, startCache, testConfig } from './harness.js';
import { TestUpstream } from './test-upstream.js';

describe("the upstream's own credentials (cache.upstreams[].auth)", () => {
  const tmp = tempDir('kgw-upauth-');
  const up = new TestUpstream(() => ({ headers: { 'cache-control': 'no-store' }, body: 'ok' }));
  afterAll(async () => {
    await up.stop();
    tmp.cleanup();
  });

  it("sends bearer, basic or header credentials from their files, never the kiosk's Authorization", async () => {
    await up.start();
    const file = (name: string, text: string) => {
      writeFileSync(join(tmp.path, name), text, { mode: 0o600 });
      return join(tmp.path, name);
    };
    const config = testConfig(tmp.path, {
      upstreams: [
        { name: 'b', base_url: `${up.url}/b`, auth: { bearer_file: file('bearer', 'tok-1\n') } },
        { name: 'u', base_url: `${up.url}/u`, auth: { basic_file: file('basic', 'svc:pw-2\n') } },
        {
          name: 'h',
          base_url: `${up.url}/h`,
          auth: { headers_file: file('hdr', '# key\nX-Api-Key: k-3\n') },
        },
      ],
    });
    const gw = await startCache(config);
    try {
      for (const name of ['b', 'u', 'h'])
        expect((await gw.app.inject({ url: `/svc/${name}/x`, headers: AUTH })).statusCode).toBe(200);
      const seen = (p: string) => up.attempts.find((a) => a.url.startsWith(p))!.headers;
      expect(seen('/b/').authorization).toBe('Bearer tok-1');
      expect(seen('/u/').authorization).toBe(`Basic ${Buffer.from('svc:pw-2').toString('base64')}`);
      expect(seen('/h/')['x-api-key']).toBe('k-3');
      expect(seen('/h/').authorization).toBeUndefined();
    } finally {
      await gw.stop();
    }
  });
});
