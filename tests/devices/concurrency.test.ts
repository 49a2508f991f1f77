import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SystemClock } from '../../src/core/clock.js';
import type { Durability } from '../../src/devices/usage-ingest.js';
import { KioskSim } from '../../src/sim/kiosk-sim.js';
import { type Harness, harness, TOKENS } from './harness.js';

const KIOSKS = 20;

describe.each<Durability>(['full', 'wal-fsync'])('durability %s', (durability) => {
  let h: Harness;
  let url = '';

  beforeAll(async () => {
    h = await harness(
      Array.from({ length: KIOSKS }, (_, i) => ({ id: `adm-${i + 1}` })),
      { clock: new SystemClock(), durability },
    );
    await h.app.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(h.app.server.address() as { port: number }).port}`;
  });
  afterAll(() => h.close());

  it('20 kiosks posting in parallel and re-sending the same ids: stored count equals distinct ids', async () => {
    const kiosks = Array.from(
      { length: KIOSKS },
      (_, i) =>
        new KioskSim({
          gateway: url,
          deviceId: `adm-${i + 1}`,
          token: TOKENS[`adm-${i + 1}`] ?? '',
          batchMax: 25,
          heartbeatMs: 0,
          healthPort: null,
          // Every third answer "lost": the kiosk sends the same batch again.
          replayProbability: 0.33,
        }),
    );
    await Promise.all(kiosks.map((k) => k.start()));
    const commitsBefore = h.devices.ingest.commits;
    for (const k of kiosks) k.enqueue(300);
    const drained = await Promise.all(kiosks.map((k) => k.drain(20_000)));
    await Promise.all(kiosks.map((k) => k.stop()));
    expect(drained.every(Boolean)).toBe(true);

    const ids = kiosks.flatMap((k) => [...k.acked]);
    expect(new Set(ids).size).toBe(KIOSKS * 300);
    expect(h.devices.usage.total()).toBe(KIOSKS * 300);
    expect(h.devices.usage.countIds(ids)).toBe(KIOSKS * 300);
    const accepted = kiosks.reduce((s, k) => s + k.stats.accepted, 0);
    const duplicates = kiosks.reduce((s, k) => s + k.stats.duplicates, 0);
    const retries = kiosks.reduce((s, k) => s + k.stats.retries, 0);
    expect(accepted).toBe(KIOSKS * 300);
    expect(retries).toBeGreaterThan(20);
    expect(duplicates).toBe(retries * 25);
    const perDevice = h.store.db
      .prepare('SELECT device_id, count(*) AS n FROM usage_events GROUP BY device_id')
      .all() as Array<{ n: number }>;
    expect(perDevice).toHaveLength(KIOSKS);
    expect(perDevice.every((r) => r.n === 300)).toBe(true);
    const hourly = h.store.db.prepare('SELECT sum(count) AS n FROM usage_hourly').get() as { n: number };
    expect(hourly.n).toBe(KIOSKS * 300);
    // Requests shared fsyncs.
    const requests = KIOSKS * 12 + retries;
    expect(h.devices.ingest.commits - commitsBefore).toBeLessThan(requests);
    if (durability === 'wal-fsync') {
      const syncs = h.devices.ingest.walSyncs ?? 0;
      expect(syncs).toBeGreaterThan(0);
      expect(syncs).toBeLessThanOrEqual(h.devices.ingest.commits);
    }
  });
});
