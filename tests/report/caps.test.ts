import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestBroker } from '../helpers/mosquitto.js';
import { waitFor } from '../helpers/net.js';
import { tempDir } from '../helpers/tmp.js';
import { Harness, reportConfig } from './harness.js';
import { Subscriber, seqGaps, usageIds } from './subscriber.js';

const ROOT = 'kampung/v1/3510170012';

describe('outbox cap: compaction, shedding by class, exact drop counts', () => {
  const broker = new TestBroker();
  const tmp = tempDir('kgw-caps-');
  beforeAll(() => broker.start());
  afterAll(async () => {
    await broker.dispose();
    tmp.cleanup();
  });

  it('sheds health first, usage only when no health remains, never events; counts every drop', async () => {
    const sub = await Subscriber.connect(broker.url, `${ROOT}/#`);
    const h = new Harness(`${tmp.path}/c`, reportConfig(`${tmp.path}/c`, broker.url, { outbox_max_mb: 1 }));
    try {
      await h.start();
      await waitFor(async () => (await h.status()).connected === true);
      await broker.stop();
      // Oldest rows are events: they must survive although they are the oldest.
      await h.send('alert early 30');
      await h.send('health 400');
      const afterHealth = await h.status();
      expect(afterHealth.dropped).toEqual({ health: 0, usage: 0, event: 0, outage: 0 });
      // Usage alone overflows 1 MiB: first the health backlog is compacted, then the health
      // summaries go, and only then the oldest usage.
      await h.send('usage 8000 5', 60_000);
      const st = await h.status();
      const dropped = st.dropped as { health: number; usage: number; event: number; outage: number };
      expect(st.bytes as number).toBeLessThanOrEqual(1024 * 1024);
      expect(dropped.health).toBe(400);
      expect(dropped.usage).toBeGreaterThan(0);
      expect(dropped.event).toBe(0);
      expect(dropped.outage).toBe(0);
      expect(h.logs().some((l) => l.msg === 'outbox: compacted health backlog')).toBe(true);

      await broker.start();
      await waitFor(
        async () =>
          (await h.status()).depth === 0 &&
          sub
            .on('/event')
            .some((m) => m.json.data && (m.json.data as { code?: string }).code === 'outbox_dropped'),
        30_000,
      );
      // A drop report is coalesced for 1 s: let the last one go out before counting.
      await new Promise((r) => setTimeout(r, 1200));
      await waitFor(async () => (await h.status()).depth === 0, 10_000);
      // The outbox is empty once the last PUBACK is in; the subscriber may still be reading
      // the last deliveries: wait until what it holds stops growing.
      let seen = -1;
      await waitFor(async () => {
        await new Promise((r) => setTimeout(r, 300));
        const now = sub.messages.length;
        const stable = now === seen;
        seen = now;
        return stable;
      }, 10_000);
      const final = (await h.status()).dropped as { health: number; usage: number; event: number };
      expect(final.event).toBe(0);
      const envs = sub.messages.filter((m) => !m.retain && m.json.v === 1);
      // Every alert arrived.
      const alerts = sub.on('/event').filter((m) => (m.json.data as { code?: string }).code === 'early');
      expect(new Set(alerts.map((m) => m.json.id)).size).toBe(30);
      // Usage: exactly the events of the shed messages are missing, oldest first.
      const got = usageIds(sub.on('/usage'));
      const missing = h.acked.filter((id) => !got.has(id));
      expect(missing.length).toBe(final.usage * 5);
      // Oldest first. One message may be the exception: making room for a drop report after the
      // broker is back sheds the oldest usage row not in flight at that moment, which can be
      // newer than rows still being delivered. It is a whole message (5 events in a row).
      const oldest = h.acked.slice(0, missing.length);
      const late = missing.filter((id) => !oldest.includes(id));
      if (late.length > 0) {
        expect(late).toHaveLength(5);
        const at = h.acked.indexOf(late[0] as string);
        expect(late).toEqual(h.acked.slice(at, at + 5));
        expect(missing.slice(0, -5)).toEqual(h.acked.slice(0, missing.length - 5));
      } else expect(missing).toEqual(oldest);
      // Seq gaps equal the counted drops exactly (health samples + usage messages).
      const gaps = seqGaps(envs);
      expect(gaps.missing.length).toBe(final.health + final.usage);
      expect(dropped.usage).toBeGreaterThan(0);
      // The drop reports are events whose per-class deltas add up to the counts exactly (making
      // room for a report may itself shed a usage row, reported a second later).
      const reported = () => {
        const sum: Record<string, number> = {};
        for (const m of sub.on('/event')) {
          const data = m.json.data as { code?: string; details?: { dropped?: Record<string, number> } };
          if (data.code !== 'outbox_dropped') continue;
          for (const [c, n] of Object.entries(data.details?.dropped ?? {})) sum[c] = (sum[c] ?? 0) + n;
        }
        return sum;
      };
      await waitFor(() => reported().usage === final.usage, 10_000);
      expect(reported()).toEqual({ health: final.health, usage: final.usage });
      // ...and the next health message carries them too.
      await h.send('health');
      await waitFor(() => sub.on('/health').length > 0, 10_000);
      const health = sub.on('/health').at(-1)?.json.data as { outbox: { dropped: Record<string, number> } };
      expect(health.outbox.dropped.usage).toBe(final.usage);
      expect(health.outbox.dropped.health).toBe(400);
    } finally {
      await h.kill();
      await sub.close();
    }
  }, 120_000);
});
