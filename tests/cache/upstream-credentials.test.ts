import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../helpers/fake-clock.js';
import { tempDir } from '../helpers/tmp.js';
import { AUTH, startCache, TOKEN, testConfig } from './harness.js';
import { TestUpstream } from './test-upstream.js';

type Ctx = Awaited<ReturnType<typeof startCache>>;

describe('/svc upstream credentials from files', () => {
  let dir: ReturnType<typeof tempDir>;
  // The box's clocks, moved by the test: freshness and the credentials' re-check without sleeping.
  let clock: FakeClock;
  let up: TestUpstream;
  let gw: Ctx | undefined;
  let logs: string[];

  beforeEach(async () => {
    clock = new FakeClock({ wall: Date.now() });
    dir = tempDir('kgw-ccred-');
    logs = [];
    up = new TestUpstream(() => ({ headers: { 'cache-control': 'no-store' }, body: 'ok' }));
    up.clock = clock;
    await up.start();
  });

  afterEach(async () => {
    await gw?.stop();
    gw = undefined;
    await up.stop();
    dir.cleanup();
  });

  const start = async (auth: Record<string, string>) => {
    const log = pino(
      { level: 'debug' },
      new Writable({
        write(chunk, _enc, done) {
          logs.push(String(chunk));
          done();
        },
      }),
    );
    const config = testConfig(dir.path, {
      upstreams: [{ name: 'layanan', base_url: `${up.url}/api`, timeout_ms: 1500, auth }],
    });
    gw = await startCache(config, clock, log);
    return gw;
  };
  const get = () =>
    gw!.app.inject({
      method: 'GET',
      url: '/svc/layanan/x',
      headers: { ...AUTH, 'x-api-key': 'kiosk-spoof' },
    });
  const post = () =>
    gw!.app.inject({
      method: 'POST',
      url: '/svc/layanan/x',
      headers: { ...AUTH, 'content-type': 'text/plain' },
      payload: 'b',
    });

  it('bearer_file: the upstream gets the gateway’s token on reads and writes, never the kiosk’s; a rotated file applies without restart', async () => {
    const file = join(dir.path, 'layanan.token');
    writeFileSync(file, 'upstream-token-1\n');
    await start({ bearer_file: file });
    await get();
    await post();
    expect(up.attempts.map((a) => a.headers.authorization)).toEqual([
      'Bearer upstream-token-1',
      'Bearer upstream-token-1',
    ]);
    expect(JSON.stringify(up.attempts.map((a) => a.headers))).not.toContain(TOKEN);
    // Rotated the way scripts do it: a new file renamed over the old one.
    writeFileSync(`${file}.new`, 'upstream-token-2\n');
    renameSync(`${file}.new`, file);
    clock.advance(1100);
    await get();
    expect(up.attempts.at(-1)?.headers.authorization).toBe('Bearer upstream-token-2');
    // A file that turns unreadable keeps the last good token.
    rmSync(file);
    clock.advance(1100);
    await get();
    expect(up.attempts.at(-1)?.headers.authorization).toBe('Bearer upstream-token-2');
    const all = logs.join('');
    expect(all).toContain('upstream credentials file not usable');
    expect(all).not.toContain('upstream-token');
  });

  it('basic_file and headers_file (X-Api-Key style, overriding what a kiosk sends)', async () => {
    const basic = join(dir.path, 'basic');
    writeFileSync(basic, 'gateway:s3cret pass\n');
    await start({ basic_file: basic });
    await get();
    expect(up.attempts[0]?.headers.authorization).toBe(
      `Basic ${Buffer.from('gateway:s3cret pass').toString('base64')}`,
    );
    await gw?.stop();
    const headers = join(dir.path, 'headers');
    writeFileSync(headers, '# regency API\nX-Api-Key: key-123\nX-Client-Id: desa-3510\n');
    await start({ headers_file: headers });
    await get();
    const got = up.attempts.at(-1)?.headers ?? {};
    expect(got['x-api-key']).toBe('key-123');
    expect(got['x-client-id']).toBe('desa-3510');
    expect(got.authorization).toBeUndefined();
  });

  it('an unreadable or malformed file: the upstream is never called without credentials (504), and nothing secret is logged', async () => {
    const headers = join(dir.path, 'headers');
    writeFileSync(headers, 'x-api-key key-without-colon-456\n');
    await start({ headers_file: headers });
    const r = await get();
    expect(r.statusCode).toBe(504);
    expect(r.json().error).toBe('GW_ERR_UPSTREAM_UNAVAILABLE');
    expect((await post()).statusCode).toBe(504);
    expect(up.attempts).toHaveLength(0);
    const all = logs.join('');
    expect(all).toContain('line 1 is not');
    expect(all).not.toContain('key-without-colon-456');
  });
});
