import { createServer } from 'node:net';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { SystemClock } from '../../src/core/clock.js';
import { checkLadder } from '../../src/uplink/ladder-check.js';
import { freePort } from '../helpers/net.js';

describe('checkLadder (doctor)', () => {
  it('runs each probe once and names the lowest failing layer with advice', async () => {
    const srv = createServer((s) => s.destroy());
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    const open = (srv.address() as { port: number }).port;
    const closed = await freePort();
    try {
      const report = await checkLadder(
        {
          down_after: 4,
          up_after: 4,
          interface_interval_s: 0,
          degraded: {
            loss_pct: 10,
            window_s: 120,
            rtt_ms: { lan: 50, isp: 150, dns: 500, internet: 300, regency: 2000 },
          },
          throughput: { enabled: false, cron: '30 3 * * 0', max_bytes: 1024, timeout_s: 10 },
          probes: [
            { name: 'router', layer: 'lan', type: 'icmp', host: '127.0.0.1' },
            { name: 'a1', layer: 'internet', type: 'tcp', host: '127.0.0.1', port: open },
            { name: 'a2', layer: 'internet', type: 'tcp', host: '127.0.0.1', port: closed },
            { name: 'regency', layer: 'regency', type: 'http', url: `http://127.0.0.1:${closed}/health` },
          ],
        },
        { clock: new SystemClock(undefined, 'b'), log: pino({ level: 'silent' }) },
      );
      expect(report.steps.map((s) => s.outcome)).toEqual(['ok', 'ok', 'refused', 'refused']);
      expect(report.fault_layer).toBe('regency');
      expect(report.hint).toMatch(/Diskominfo/);
      expect(report.fping.available).toBe(true);
    } finally {
      srv.close();
    }
  });
});
