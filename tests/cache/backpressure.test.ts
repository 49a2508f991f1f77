import { readFileSync } from 'node:fs';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { TempBody } from '../../src/cache/temp-body.js';
import { UpstreamClient } from '../../src/cache/upstream-client.js';
import { SystemClock } from '../../src/core/clock.js';
import { Scheduler } from '../../src/core/scheduler.js';
import { tempDir } from '../helpers/tmp.js';
import { TestUpstream } from './test-upstream.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('large upstream bodies: asynchronous temp-file writes with backpressure', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('a slow sink pauses the upstream response instead of piling its chunks up in memory', async () => {
    const body = Buffer.alloc(8 * 1024 * 1024, 7);
    const up = new TestUpstream(() => ({ body }));
    await up.start();
    cleanups.push(() => up.stop());
    const scheduler = new Scheduler({ clock: new SystemClock(), log: pino({ level: 'silent' }) });
    cleanups.push(() => scheduler.stop());
    const client = new UpstreamClient({ scheduler, maxBodyBytes: 16 * 1024 * 1024 });
    cleanups.push(() => client.destroy());
    let received = 0;
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const done = client.request({
      url: new URL(`${up.url}/big`),
      method: 'GET',
      headers: {},
      timeoutMs: 5000,
      spill: {
        above: 64 * 1024,
        open: () => ({
          write: (c) => {
            received += c.length;
            return gate;
          },
          abort: () => undefined,
        }),
      },
    });
    await sleep(300);
    // Held at the first chunk that went to the sink: far less than the 8 MiB on offer.
    expect(received).toBeLessThan(1024 * 1024);
    release();
    const res = await done;
    expect(res.spilled).toBe(true);
    expect(received).toBe(body.length);
  });

  it('TempBody writes in order without blocking, hashes, and keeps the bytes', async () => {
    const dir = tempDir('kgw-ctemp-');
    cleanups.push(() => dir.cleanup());
    const t = new TempBody(dir.path);
    const parts = [Buffer.from('abc'), Buffer.alloc(100_000, 1), Buffer.from('xyz')];
    const writes = parts.map((p) => t.write(p));
    expect(writes.every((w) => w instanceof Promise)).toBe(true);
    const out = await t.finish();
    expect(out.kind).toBe('file');
    expect(readFileSync(t.path).equals(Buffer.concat(parts))).toBe(true);
    expect((await t.readAll()).equals(Buffer.concat(parts))).toBe(true);
    t.close();
  });
});
