import { createServer } from 'node:http';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SystemClock } from '../../src/core/clock.js';
import { Throughput } from '../../src/uplink/throughput.js';

describe('throughput test (byte-capped download)', () => {
  let sent = 0;
  const server = createServer((req, res) => {
    if (req.url === '/slow') {
      const t = setInterval(() => res.write(Buffer.alloc(64 * 1024, 2)), 50);
      res.on('close', () => clearInterval(t));
      return;
    }
    if (req.url === '/missing') {
      res.statusCode = 404;
      res.end();
      return;
    }
    // An endless body: only the cap stops the client.
    const chunk = Buffer.alloc(64 * 1024, 1);
    const pump = () => {
      while (res.write(chunk)) {
        sent += chunk.length;
        if (res.destroyed || sent > 200 * 1024 * 1024) return;
      }
      res.once('drain', pump);
    };
    res.on('close', () => res.removeAllListeners('drain'));
    pump();
  });
  let base = '';
  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(() => {
    server.closeAllConnections();
    server.close();
  });
  const make = (url: string, maxBytes: number) =>
    new Throughput({
      config: { enabled: true, url, cron: '* * * * *', max_bytes: maxBytes, timeout_s: 5 },
      clock: new SystemClock(undefined, 'b'),
      log: pino({ level: 'silent' }),
    });

  it('stops at max_bytes and reports a rate', async () => {
    const r = await make(`${base}/big`, 2 * 1024 * 1024).run(AbortSignal.timeout(10_000));
    expect(r.error).toBeNull();
    expect(r.bytes).toBeGreaterThanOrEqual(2 * 1024 * 1024);
    expect(r.bytes).toBeLessThan(2 * 1024 * 1024 + 256 * 1024); // at most one read past the cap
    expect(r.mbps).toBeGreaterThan(0);
  });

  it('reports an HTTP error as a result, not an exception', async () => {
    const r = await make(`${base}/missing`, 1024).run(AbortSignal.timeout(5000));
    expect(r).toMatchObject({ bytes: 0, error: 'HTTP 404' });
  });

  it('ends when the scheduler aborts it', async () => {
    const t0 = performance.now();
    const r = await make(`${base}/slow`, 150 * 1024 * 1024).run(AbortSignal.timeout(300));
    expect(performance.now() - t0).toBeLessThan(1500);
    expect(r.bytes).toBeGreaterThan(0);
    expect(r.bytes).toBeLessThan(1024 * 1024);
  });
});
