import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestDaemon } from '../helpers/daemon.js';
import { TestBroker } from '../helpers/mosquitto.js';
import { waitFor } from '../helpers/net.js';
import { tempDir } from '../helpers/tmp.js';
import { Subscriber, seqGaps, usageIds } from './subscriber.js';

const ROOT = 'kampung/v1/3510170012';
const TOKEN = 'kiosk-token-0123456789abcdef';

/**
 * End to end through the real daemon and the devices' HTTP API: an event id is "accepted"
 * only when its POST answered 202. The daemon is kill -9ed twice while kiosks keep posting.
 */
describe('Jepsen (a) through the real HTTP API', () => {
  const broker = new TestBroker();
  const tmp = tempDir('kgw-e2e-');
  beforeAll(() => broker.start());
  afterAll(async () => {
    await broker.dispose();
    tmp.cleanup();
  });

  it('broker down, 2000+ events accepted over HTTP, daemon kill -9ed twice: every accepted id arrives, no seq gap', async () => {
    writeFileSync(join(tmp.path, 'adm-1.token'), `${TOKEN}\n`);
    const sub = await Subscriber.connect(broker.url, `${ROOT}/#`);
    const daemon = new TestDaemon({
      dir: join(tmp.path, 'd'),
      config: {
        devices: [
          { id: 'adm-1', name: 'Anjungan 1', kind: 'kiosk', token_file: join(tmp.path, 'adm-1.token') },
        ],
        mqtt: {
          url: broker.url,
          connect_delay_max_s: 0,
          reconnect_min_s: 0.1,
          reconnect_max_s: 1,
          drain_per_s: 100000,
        },
      },
    });
    const accepted: string[] = [];
    let running = true;
    /** A kiosk posting batches of 10 until told to stop; errors (daemon dead) are retried later. */
    const kiosk = async () => {
      while (running) {
        const events = Array.from({ length: 10 }, () => ({
          id: randomUUID(),
          type: 'service_use',
          service: 'ktp',
          outcome: 'ok',
        }));
        try {
          const res = await fetch(`${daemon.url}/api/v1/devices/adm-1/events`, {
            method: 'POST',
            headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
            body: JSON.stringify({ events }),
          });
          if (res.status === 202) accepted.push(...events.map((e) => e.id));
          else await new Promise((r) => setTimeout(r, 20));
        } catch {
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    };
    try {
      await daemon.start();
      await daemon.waitForLog((l) => l.msg === 'mqtt: connected');
      await broker.stop();
      const kiosks = [kiosk(), kiosk()];
      for (const target of [700, 1400]) {
        await waitFor(() => accepted.length >= target, 30_000, 5);
        await daemon.kill();
        await daemon.start();
      }
      await waitFor(() => accepted.length >= 2100, 30_000, 5);
      running = false;
      await Promise.all(kiosks);

      await broker.start();
      await waitFor(() => {
        const got = usageIds(sub.on('/usage'));
        return accepted.every((id) => got.has(id));
      }, 60_000);
      // Let the last acknowledgements settle, then no gap in the seq of everything received.
      await new Promise((r) => setTimeout(r, 500));
      const envs = sub.messages.filter((m) => !m.retain && m.json.v === 1);
      const gaps = seqGaps(envs);
      expect(gaps.missing).toEqual([]);
      expect(new Set(envs.map((m) => m.json.boot)).size).toBeGreaterThanOrEqual(3);
      expect(accepted.length).toBeGreaterThanOrEqual(2000);
    } finally {
      running = false;
      await daemon.dispose();
      await sub.close();
    }
  }, 150_000);
});
