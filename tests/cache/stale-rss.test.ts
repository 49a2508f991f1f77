import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TestDaemon } from '../helpers/daemon.js';
import { tempDir } from '../helpers/tmp.js';
import { TestUpstream } from './test-upstream.js';

const TOKEN = 'stale-rss-token-0123456789abcdef';
const MiB = 1024 * 1024;

function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0) * 1024;
}

/** The daemon's highest RSS while `work` runs, sampled every 5 ms. */
async function peakDuring(pid: number, work: () => Promise<void>): Promise<number> {
  let peak = rssBytes(pid);
  const timer = setInterval(() => {
    peak = Math.max(peak, rssBytes(pid));
  }, 5);
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  return Math.max(peak, rssBytes(pid));
}

describe('a large STALE answer streams from disk in the real daemon', () => {
  const tmp = tempDir('kgw-crss-');
  const big = Buffer.alloc(50 * MiB, 'p');
  const small = Buffer.alloc(2048, 's');
  const up = new TestUpstream((req) => ({
    headers: { 'cache-control': 'max-age=0', 'content-type': 'application/pdf' },
    body: req.url?.endsWith('big.pdf') ? big : small,
  }));
  let daemon: TestDaemon | undefined;

  afterAll(async () => {
    await daemon?.dispose();
    await up.stop();
    tmp.cleanup();
  });

  it('a 50 MB STALE answer keeps peak RSS within 10 MiB of a 2 KB one', async () => {
    await up.start();
    writeFileSync(join(tmp.path, 'k.token'), TOKEN);
    daemon = new TestDaemon({
      dir: join(tmp.path, 'gw'),
      // As the systemd unit runs it.
      nodeArgs: ['--max-semi-space-size=4'],
      config: {
        devices: [{ id: 'adm-1', name: 'Kiosk', kind: 'kiosk', token_file: join(tmp.path, 'k.token') }],
        cache: { max_mb: 256, upstreams: [{ name: 'layanan', base_url: `${up.url}/api`, timeout_ms: 1000 }] },
      },
    });
    await daemon.start();
    const read = async (path: string) => {
      const r = await fetch(`${daemon!.url}/svc/layanan${path}`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      let n = 0;
      for await (const chunk of r.body ?? []) n += (chunk as Uint8Array).length;
      return { cache: r.headers.get('x-cache'), n };
    };
    expect(await read('/small')).toEqual({ cache: 'MISS', n: small.length });
    expect(await read('/big.pdf')).toEqual({ cache: 'MISS', n: big.length });
    await up.stop();
    // A fresh process, so the MISS (its own path, its own garbage) weighs on neither figure.
    await daemon.stop('SIGTERM');
    await daemon.start();
    const pid = daemon.proc?.pid ?? 0;
    const smallPeak = await peakDuring(pid, async () => {
      for (let i = 0; i < 5; i++) expect(await read('/small')).toEqual({ cache: 'STALE', n: small.length });
    });
    const bigPeak = await peakDuring(pid, async () => {
      expect(await read('/big.pdf')).toEqual({ cache: 'STALE', n: big.length });
    });
    expect(bigPeak - smallPeak).toBeLessThanOrEqual(10 * MiB);
  });
});
