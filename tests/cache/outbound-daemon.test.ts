import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TestDaemon } from '../helpers/daemon.js';
import { freePort, waitFor } from '../helpers/net.js';
import { tempDir } from '../helpers/tmp.js';
import { TestUpstream } from './test-upstream.js';

const TOKEN = 'daemon-kiosk-token-42';
const N = 100;
const key = (i: number) => `key-${String(i).padStart(3, '0')}`;

describe('offline writes through the real daemon, with kill -9', () => {
  const tmp = tempDir('kgw-cdaemon-');
  let daemon: TestDaemon | undefined;
  let upstream: TestUpstream | undefined;

  afterAll(async () => {
    await daemon?.dispose();
    await upstream?.stop();
    tmp.cleanup();
  });

  it('every key reaches the upstream, in order, repeated only when the previous answer was lost', async () => {
    const dir = join(tmp.path, 'gw');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'adm-1.token'), TOKEN);
    const port = await freePort();
    const seen = new Map<string, number>();
    // The upstream applies every write it receives; for every 9th key it then drops the
    // connection on the first attempt, so the gateway never hears the answer.
    upstream = new TestUpstream((req) => {
      const k = String(req.headers['idempotency-key']);
      const n = (seen.get(k) ?? 0) + 1;
      seen.set(k, n);
      if (n === 1 && Number(k.slice(4)) % 9 === 4) return 'drop';
      return {
        status: 201,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ applied: k, n }),
      };
    });
    upstream.port = port;
    daemon = new TestDaemon({
      dir,
      config: {
        devices: [{ id: 'adm-1', name: 'Kiosk', kind: 'kiosk', token_file: join(dir, 'adm-1.token') }],
        cache: {
          max_mb: 16,
          outbound: { max_backoff_s: 1 },
          upstreams: [
            {
              name: 'layanan',
              base_url: `http://127.0.0.1:${port}/api`,
              offline_writes: true,
              timeout_ms: 500,
            },
          ],
        },
      },
    });
    await daemon.start();
    const locations: string[] = [];
    const post = async (i: number) => {
      const res = await fetch(`${daemon!.url}/svc/layanan/permohonan`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${TOKEN}`,
          'idempotency-key': key(i),
          'content-type': 'application/json',
        },
        body: JSON.stringify({ n: i }),
      });
      expect(res.status).toBe(202);
      return String(res.headers.get('location'));
    };
    for (let i = 0; i < N / 2; i++) locations.push(await post(i));
    const killed = await daemon.stop('SIGKILL');
    expect(killed.signal).toBe('SIGKILL');
    await daemon.start();
    // Acknowledged before the kill = still known after it (same key → same queued write).
    expect(await post(10)).toBe(locations[10]);
    for (let i = N / 2; i < N; i++) locations.push(await post(i));
    expect(upstream.attempts).toHaveLength(0);

    await upstream.start(port);
    await waitFor(() => seen.size === N && upstream!.attempts.length >= N, 60_000, 200);
    const last = await waitFor(async () => {
      const r = await fetch(`${daemon!.url}${locations[N - 1]}`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      const s = (await r.json()) as { state: string; response: { status: number; body: string } | null };
      return s.state === 'delivered' ? s : undefined;
    }, 20_000);
    expect(last.response?.status).toBe(201);

    const attempts = upstream.attempts.map((a) => ({
      k: String(a.headers['idempotency-key']),
      dropped: a.dropped,
    }));
    // Every key arrived; first arrivals are in the order the kiosk sent them.
    const firsts = [...new Set(attempts.map((a) => a.k))];
    expect(firsts).toEqual(Array.from({ length: N }, (_, i) => key(i)));
    // Head of line: never a later key before an earlier one was answered.
    for (let i = 1; i < attempts.length; i++) {
      const prev = attempts[i - 1]!;
      const cur = attempts[i]!;
      expect(cur.k >= prev.k).toBe(true);
      // A key more than once only right after an attempt whose answer was lost.
      if (cur.k === prev.k) expect(prev.dropped).toBe(true);
    }
    const repeated = [...seen].filter(([, n]) => n > 1).map(([k]) => k);
    expect(repeated).toEqual(firsts.filter((k) => Number(k.slice(4)) % 9 === 4));
    expect(attempts.every((a) => a.k.startsWith('key-'))).toBe(true);
    // Queued bodies and keys never reach the log.
    const logText = JSON.stringify(daemon.logs);
    expect(logText).not.toContain('"n":5');
    expect(logText).not.toContain('key-005');
  }, 120_000);
});
