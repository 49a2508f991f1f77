import { existsSync, readdirSync, readlinkSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { isGwError } from '../../src/core/errors.js';
import { FpingSampler } from '../../src/probes/fping-sampler.js';
import type { ProbeResult } from '../../src/probes/types.js';
import { sleep, waitFor } from '../helpers/net.js';

let sampler: FpingSampler | null = null;
afterEach(() => {
  sampler?.stop();
  sampler = null;
});

/** Takes once a second, like the uplink's beat, and keeps what came back per spec. */
async function beats(s: FpingSampler, n: number) {
  const seen: Array<Array<ProbeResult | Error | null>> = [];
  for (let i = 0; i < n; i++) {
    await sleep(1000);
    seen.push(s.take());
  }
  return seen;
}

describe('fping sampler (one fping for several targets, read on the beat)', () => {
  it('gives each target its own packets, about one per beat, and an unresolved name as unreachable', async () => {
    sampler = new FpingSampler([
      { type: 'icmp', name: 'a', host: '127.0.0.1' },
      { type: 'icmp', name: 'b', host: '127.0.0.2' },
      { type: 'icmp', name: 'c', host: 'no-such-host.invalid' },
    ]);
    expect(sampler.args()).toEqual(
      expect.arrayContaining(['-p', '1000', '-t', '500', '127.0.0.1', '127.0.0.2']),
    );
    sampler.start();
    expect(sampler.running()).toBe(true);
    const seen = await beats(sampler, 4);
    for (const k of [0, 1]) {
      const results = seen
        .map((b) => b[k])
        .filter((r): r is ProbeResult => r !== null && !(r instanceof Error));
      // Four beats, four packets sent: each beat carries what completed since the last one.
      const sent = results.reduce((a, r) => a + Number(r.fields.sent), 0);
      expect(sent).toBeGreaterThanOrEqual(3);
      expect(sent).toBeLessThanOrEqual(5);
      expect(results.every((r) => r.outcome === 'ok' && r.fields.loss_pct === 0)).toBe(true);
    }
    const c = seen.at(-1)?.[2] as ProbeResult;
    expect(c).toMatchObject({ outcome: 'unreachable', fields: { error: 'unresolved' } });
  }, 15_000);

  it('reads fping through a FIFO in RAM, so pings write nothing to the SD card', async () => {
    sampler = new FpingSampler([{ type: 'icmp', host: '127.0.0.1' }]);
    sampler.start();
    const fifos = readdirSync('/proc/self/fd')
      .map((fd) => {
        try {
          return readlinkSync(`/proc/self/fd/${fd}`);
        } catch {
          return '';
        }
      })
      .filter((l) => l.includes('kgw-fping-'));
    expect(fifos.length).toBe(1);
    // Its folder is removed once both ends are open: nothing is left behind either.
    expect(fifos[0]).toMatch(
      existsSync('/dev/shm') ? /^\/dev\/shm\/kgw-fping-.*\(deleted\)$/ : /\(deleted\)$/,
    );
    await sleep(1200);
    expect(sampler.take()[0]).toMatchObject({ outcome: 'ok' });
  }, 10_000);

  it('reports nothing new rather than a failure between packets', async () => {
    sampler = new FpingSampler([{ type: 'icmp', host: '127.0.0.1', interval_s: 3 }]);
    sampler.start();
    await sleep(1200);
    expect(sampler.take()[0]).toMatchObject({ outcome: 'ok' }); // the first packet
    expect(sampler.take()[0]).toBeNull(); // the next one is 3 s away
  }, 10_000);

  it('a missing fping is a broken probe, and a killed fping stops the sampler', async () => {
    sampler = new FpingSampler([{ type: 'icmp', host: '127.0.0.1' }], '/nonexistent/fping');
    sampler.start();
    await waitFor(() => !sampler!.running(), 2000);
    const [r] = sampler.take();
    expect(isGwError(r) && r.code).toBe('GW_ERR_PROBE_BROKEN');
    sampler.stop();

    sampler = new FpingSampler([{ type: 'icmp', host: '127.0.0.1' }]);
    sampler.start();
    await sleep(300);
    // The fping is a child of this process: kill -9 it as a crash would.
    const pid = (sampler as unknown as { proc: { pid: number } }).proc.pid;
    process.kill(pid, 'SIGKILL');
    await waitFor(() => !sampler!.running(), 2000);
    const [after] = sampler.take();
    expect(isGwError(after) && after.code).toBe('GW_ERR_PROBE_BROKEN');
    // Started again (the uplink's beat does this after a back-off), it works.
    sampler.start();
    await sleep(1200);
    expect(sampler.take()[0]).toMatchObject({ outcome: 'ok' });
  }, 15_000);
});
