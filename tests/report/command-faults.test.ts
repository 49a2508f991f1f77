import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestDaemon } from '../helpers/daemon.js';
import { TestBroker } from '../helpers/mosquitto.js';
import { sleep, waitFor } from '../helpers/net.js';

const ROOT = 'kampung/v1/3510170012';

interface Reply {
  topic: string;
  body: { id: string | null; ok: boolean; result?: unknown; error?: { code: string } };
}

describe('remote command contract faults', () => {
  const broker = new TestBroker();
  let daemon: TestDaemon;
  let noc: MqttClient;
  let hang: Server;
  const replies: Reply[] = [];

  beforeAll(async () => {
    await broker.start();
    // An HTTP target that accepts and never answers: a `ping` of it runs until its timeout.
    hang = createServer(() => {});
    await new Promise<void>((r) => hang.listen(0, '127.0.0.1', () => r()));
    const port = (hang.address() as AddressInfo).port;
    daemon = await TestDaemon.start({
      config: {
        uplink: {
          probes: [
            {
              name: 'slow',
              layer: 'regency',
              type: 'http',
              url: `http://127.0.0.1:${port}/`,
              interval_s: 3600,
              timeout_ms: 3000,
            },
          ],
        },
        mqtt: { url: broker.url, connect_delay_max_s: 0 },
      },
    });
    await daemon.waitForLog((l) => l.msg === 'mqtt: connected');
    noc = mqtt.connect(broker.url, { protocolVersion: 5, clientId: 'noc-faults' });
    noc.on('message', (topic, payload) => {
      if (payload.length > 0) replies.push({ topic, body: JSON.parse(payload.toString()) });
    });
    await waitFor(() => noc.connected);
    await noc.subscribeAsync([`${ROOT}/cmd/+/reply/#`, 'noc/faults', 'kampung/v1/3510170099/#'], { qos: 1 });
    await sleep(300);
  });
  afterAll(async () => {
    await noc?.endAsync(true);
    await daemon?.dispose();
    await broker.dispose();
    hang?.closeAllConnections();
    hang?.close();
  });

  const send = (name: string, body: unknown, responseTopic?: string, retain = false) =>
    noc.publishAsync(`${ROOT}/cmd/${name}`, JSON.stringify(body), {
      qos: 1,
      retain,
      ...(responseTopic ? { properties: { responseTopic } } : {}),
    });
  const replyFor = (id: string) => waitFor(() => replies.find((r) => r.body.id === id), 8000, 10);

  it('a "busy" reply carries the id of the request it refuses', async () => {
    for (let i = 0; i < 6; i++)
      await send('ping', { id: `busy-${i}`, args: { probe: 'slow' } }, 'noc/faults');
    const all = await Promise.all(Array.from({ length: 6 }, (_, i) => replyFor(`busy-${i}`)));
    const busy = all.filter((r) => r.body.error?.code === 'busy');
    expect(busy.length).toBe(2);
    for (const r of all) expect(r.body.id).toMatch(/^busy-\d$/);
  }, 20_000);

  it('ping refuses arguments it does not know', async () => {
    await send('ping', { id: 'pa-1', args: { probe: 'slow', count: 1000 } });
    const r = await replyFor('pa-1');
    expect(r.topic).toBe(`${ROOT}/cmd/ping/reply`);
    expect(r.body).toMatchObject({ ok: false, error: { code: 'bad_args' } });
  });

  it('a response topic in another village is refused: error on the default reply topic, nothing run', async () => {
    const other = 'kampung/v1/3510170099/status';
    await send('flush-outbox', { id: 'rt-1' }, other);
    const r = await replyFor('rt-1');
    expect(r.topic).toBe(`${ROOT}/cmd/flush-outbox/reply`);
    expect(r.body).toMatchObject({ ok: false, error: { code: 'bad_response_topic' } });
    expect(replies.some((x) => x.topic === other)).toBe(false);
    expect(daemon.logs.some((l) => l.msg === 'remote command done' && l.id === 'rt-1')).toBe(false);
    // Our own data and request topics are refused too; our own reply subtree and foreign trees are fine.
    await send('get-config', { id: 'rt-2' }, `${ROOT}/status`);
    expect((await replyFor('rt-2')).body.error?.code).toBe('bad_response_topic');
    await send('get-config', { id: 'rt-3' }, `${ROOT}/cmd/get-config`);
    expect((await replyFor('rt-3')).body.error?.code).toBe('bad_response_topic');
    await send('get-config', { id: 'rt-4' }, `${ROOT}/cmd/get-config/reply/noc-7`);
    const own = await replyFor('rt-4');
    expect(own).toMatchObject({ topic: `${ROOT}/cmd/get-config/reply/noc-7`, body: { ok: true } });
    await send('get-config', { id: 'rt-5' }, 'noc/faults');
    expect((await replyFor('rt-5')).body.ok).toBe(true);
  });

  it('a retained command runs once when sent, never again after a restart', async () => {
    await send('flush-outbox', { id: 'ret-1' }, undefined, true);
    await replyFor('ret-1');
    await sleep(200);
    const ran = () => daemon.logs.filter((l) => l.msg === 'remote command done' && l.id === 'ret-1').length;
    expect(ran()).toBe(1);
    await daemon.stop();
    await daemon.start();
    await daemon.waitForLog((l) => l.msg === 'mqtt: connected');
    await daemon.waitForLog((l) => l.msg === 'remote command refused' && l.id === 'ret-1');
    await sleep(300);
    expect(ran()).toBe(0);
    await noc.publishAsync(`${ROOT}/cmd/flush-outbox`, '', { qos: 1, retain: true });
  }, 30_000);
});
