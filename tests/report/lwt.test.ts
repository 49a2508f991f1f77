import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestDaemon } from '../helpers/daemon.js';
import { TestBroker } from '../helpers/mosquitto.js';
import { waitFor } from '../helpers/net.js';
import { tempDir } from '../helpers/tmp.js';
import { Subscriber } from './subscriber.js';

const ROOT = 'kampung/v1/3510170012';

/** What a consumer subscribing now gets as retained state, by topic. */
async function retainedNow(url: string): Promise<Map<string, Record<string, unknown>>> {
  const s = await Subscriber.connect(url, `${ROOT}/#`, { clean: true });
  await new Promise((r) => setTimeout(r, 400));
  await s.close();
  return new Map(s.messages.filter((m) => m.retain).map((m) => [m.topic, m.json]));
}

describe('birth, Will and retained state (real daemon)', () => {
  const broker = new TestBroker();
  const tmp = tempDir('kgw-lwt-');
  beforeAll(() => broker.start());
  afterAll(async () => {
    await broker.dispose();
    tmp.cleanup();
  });

  it('kill -9 → retained {online:false}; restart → {online:true} and link/devices republished; clean stop → {online:false} first', async () => {
    const sub = await Subscriber.connect(broker.url, `${ROOT}/#`);
    const daemon = new TestDaemon({
      dir: `${tmp.path}/d`,
      config: {
        devices: [
          { id: 'adm-1', name: 'Anjungan 1', kind: 'kiosk' },
          { id: 'prn-1', name: 'Printer', kind: 'printer' },
        ],
        mqtt: { url: broker.url, connect_delay_max_s: 0, reconnect_min_s: 0.1, reconnect_max_s: 1 },
      },
    });
    try {
      await daemon.start();
      const status = () => sub.on('/status').map((m) => m.json);
      await waitFor(() => status().some((s) => s.online === true));
      const firstBoot = status().find((s) => s.online === true)?.boot;

      await daemon.kill();
      await waitFor(() => status().some((s) => s.online === false && s.boot === firstBoot), 10_000);
      const dead = status().find((s) => s.online === false);
      expect(dead?.clean).toBeUndefined(); // the broker's Will, not our clean stop
      const afterKill = await retainedNow(broker.url);
      expect(afterKill.get(`${ROOT}/status`)?.online).toBe(false);

      const linksBefore = sub.on('/link').length;
      const devBefore = sub.on('/device/adm-1').length;
      await daemon.start();
      await waitFor(() => status().some((s) => s.online === true && s.boot !== firstBoot), 10_000);
      await waitFor(() => sub.on('/link').length > linksBefore && sub.on('/device/adm-1').length > devBefore);
      const retained = await retainedNow(broker.url);
      expect(retained.get(`${ROOT}/status`)?.online).toBe(true);
      expect(retained.get(`${ROOT}/link`)?.verdict).toBe('unknown');
      expect(retained.get(`${ROOT}/device/adm-1`)?.kind).toBe('kiosk');
      expect(retained.get(`${ROOT}/device/prn-1`)?.kind).toBe('printer');

      const n = status().length;
      const stopped = await daemon.stop('SIGTERM');
      expect(stopped.code).toBe(0);
      await waitFor(() => status().length > n);
      expect(status().at(-1)).toMatchObject({ online: false, clean: true });
      expect((await retainedNow(broker.url)).get(`${ROOT}/status`)?.online).toBe(false);
    } finally {
      await daemon.dispose();
      await sub.close();
    }
  }, 60_000);

  it('a broker unreachable at start is normal: the daemon runs, reconnects with backoff, then reports', async () => {
    const down = new TestBroker();
    await down.start();
    await down.stop();
    const daemon = new TestDaemon({
      config: { mqtt: { url: down.url, connect_delay_max_s: 0, reconnect_min_s: 0.1, reconnect_max_s: 1 } },
    });
    try {
      await daemon.start();
      const res = await fetch(`${daemon.url}/healthz`);
      expect(res.status).toBe(200);
      await waitFor(() => daemon.logs.filter((l) => l.msg === 'mqtt: connecting').length >= 2, 10_000);
      const sub = await (async () => {
        await down.start();
        return Subscriber.connect(down.url, `${ROOT}/status`, { clean: true });
      })();
      await waitFor(() => sub.messages.some((m) => m.json.online === true), 10_000);
      await sub.close();
    } finally {
      await daemon.dispose();
      await down.dispose();
    }
  }, 40_000);

  it('MQTT 3.1.1 (protocol_version 4) works the same: birth, then the Will after kill -9', async () => {
    const sub = await Subscriber.connect(broker.url, `${ROOT}/status`, { clean: true });
    const daemon = new TestDaemon({
      config: { mqtt: { url: broker.url, protocol_version: 4, connect_delay_max_s: 0 } },
    });
    try {
      await daemon.start();
      await waitFor(() => sub.messages.some((m) => m.json.online === true));
      await daemon.kill();
      await waitFor(() => sub.messages.some((m) => m.json.online === false && m.json.clean === undefined));
    } finally {
      await daemon.dispose();
      await sub.close();
    }
  });
});
