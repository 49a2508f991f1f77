import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestBroker } from '../helpers/mosquitto.js';
import { waitFor } from '../helpers/net.js';
import { tempDir } from '../helpers/tmp.js';
import { Harness, reportConfig } from './harness.js';
import { Subscriber, seqGaps, usageIds } from './subscriber.js';

const ROOT = 'kampung/v1/3510170012';

describe('outbox under broker outages and kill -9 (Jepsen-style)', () => {
  const broker = new TestBroker();
  const tmp = tempDir('kgw-jepsen-');
  beforeAll(() => broker.start());
  afterAll(async () => {
    await broker.dispose();
    tmp.cleanup();
  });

  it('(a) broker down while 2000 usage events are accepted, harness kill -9ed twice: every id arrives, no seq gap', async () => {
    const sub = await Subscriber.connect(broker.url, `${ROOT}/#`);
    const h = new Harness(`${tmp.path}/a`, reportConfig(`${tmp.path}/a`, broker.url));
    try {
      await h.start();
      await waitFor(async () => (await h.status()).connected === true);
      await broker.stop();
      // Two rounds killed mid-stream (kill -9 while events are being accepted), one clean round.
      for (let round = 0; round < 2; round++) {
        const before = h.acked.length;
        h.write('usage 1500 5');
        await waitFor(() => h.acked.length >= before + 400 + round * 100, 30_000, 5);
        await h.kill();
        await h.start();
      }
      const rest = Math.max(0, 2000 - h.acked.length);
      await h.send(`usage ${rest + 100} 5`, 60_000);
      expect(h.acked.length).toBeGreaterThanOrEqual(2000);
      const depth = (await h.status()).depth as number;
      expect(depth).toBeGreaterThanOrEqual(h.acked.length / 5 - 1);

      await broker.start();
      const want = new Set(h.acked);
      await waitFor(() => {
        const got = usageIds(sub.on('/usage'));
        for (const id of want) if (!got.has(id)) return false;
        return true;
      }, 60_000);
      await waitFor(async () => (await h.status()).depth === 0, 20_000);
      const gaps = seqGaps(sub.messages.filter((m) => !m.retain && m.json.v === 1));
      expect(gaps.missing).toEqual([]);
      expect(gaps.max).toBeGreaterThanOrEqual(Math.ceil(2000 / 5));
      // Everything sent after the outage was replayed from the backlog.
      const usage = sub.on('/usage');
      expect(usage.filter((m) => m.json.historical === true).length).toBeGreaterThan(0);
      expect(new Set(usage.map((m) => m.json.boot)).size).toBe(3);
    } finally {
      await h.kill();
      await sub.close();
    }
  }, 150_000);

  it('(b) broker restarted 20 times during steady traffic: every id arrives, no seq gap', async () => {
    const sub = await Subscriber.connect(broker.url, `${ROOT}/#`);
    const h = new Harness(`${tmp.path}/b`, reportConfig(`${tmp.path}/b`, broker.url));
    try {
      await h.start();
      await waitFor(async () => (await h.status()).connected === true);
      const firstSeq = sub.messages.length;
      for (let i = 0; i < 20; i++) {
        h.write('usage 60 3');
        await new Promise((r) => setTimeout(r, 60 + Math.random() * 120));
        if (i % 2 === 0) await broker.restart();
        else {
          await broker.stop();
          h.write('usage 30 3');
          await broker.start();
        }
      }
      await h.send('usage 30 3');
      const want = new Set(h.acked);
      expect(want.size).toBe(20 * 60 + 10 * 30 + 30);
      await waitFor(() => {
        const got = usageIds(sub.on('/usage'));
        for (const id of want) if (!got.has(id)) return false;
        return true;
      }, 60_000);
      await waitFor(async () => (await h.status()).depth === 0, 20_000);
      const gaps = seqGaps(sub.messages.slice(firstSeq).filter((m) => !m.retain && m.json.v === 1));
      expect(gaps.missing).toEqual([]);
      const connects = h.logs().filter((l) => l.msg === 'mqtt: connected').length;
      expect(connects).toBeGreaterThanOrEqual(10);
    } finally {
      await h.kill();
      await sub.close();
    }
  }, 150_000);
});
