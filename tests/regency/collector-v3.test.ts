import Database from 'better-sqlite3';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestBroker } from '../helpers/mosquitto.js';
import { waitFor } from '../helpers/net.js';
import { tempDir } from '../helpers/tmp.js';
import {
  RegencyDaemon,
  regencyCli,
  regencyConfig,
  TestStore,
  VillagePublisher,
  villageCodes,
} from './helpers.js';

/*
 * `mqtt.protocol_version: 4`, for brokers without MQTT 5 (the demo's embedded one). mqtt.js
 * calls customHandleAcks only under MQTT 5, so the collector holds the PUBACK in handleMessage:
 * a kill -9 while the store refuses commits must still lose nothing the broker accepted. If
 * the PUBACK went out on receipt, the messages received but not committed would be lost.
 */
describe('regency collector over MQTT 3.1.1 (sqlite)', () => {
  const tmp = tempDir('kgw-regency-v3-');
  const broker = new TestBroker();
  const store = new TestStore('sqlite', tmp.path);
  let daemon: RegencyDaemon;
  const pub = new VillagePublisher();

  beforeAll(async () => {
    await broker.start();
    const config = regencyConfig(store, broker.url);
    daemon = new RegencyDaemon(`${tmp.path}/regency`, {
      ...config,
      mqtt: { ...config.mqtt, protocol_version: 4 },
    });
    await daemon.start();
    await daemon.login();
    await pub.connect(broker.url);
  }, 30_000);
  afterAll(async () => {
    await pub.close();
    await daemon?.kill();
    await broker.dispose();
    tmp.cleanup();
  });

  const stored = () => {
    const db = new Database(`${store.dataDir}/regency.db`, { readonly: true });
    try {
      return (db.prepare('SELECT id FROM messages').all() as Array<{ id: string }>).map((r) => r.id);
    } finally {
      db.close();
    }
  };

  it('stores every envelope once through a kill -9 with commits held', async () => {
    const codes = await villageCodes(20);
    const round = () => Promise.all(codes.map((gw) => pub.publish(pub.envelope(gw, 'event'), 'event')));
    await round();
    await waitFor(() => stored().length === codes.length, 15_000);
    const release = await store.lockWrites();
    await round();
    await round();
    await daemon.kill('SIGKILL');
    await release();
    await daemon.start();
    await round();
    const total = 4 * codes.length;
    expect(pub.acked.size).toBe(total);
    await waitFor(() => stored().length >= total, 20_000, 100);
    const ids = stored();
    expect(ids.length).toBe(total);
    expect(new Set(ids).size).toBe(total);
    expect([...pub.acked].filter((id) => !ids.includes(id))).toEqual([]);
    const r = await regencyCli(['status', '--json', '--config', daemon.configPath]);
    expect(JSON.parse(r.out)).toMatchObject({ messages: total, seq_gaps: 0, quarantined: 0 });
  }, 60_000);

  it('takes command replies from the village reply topic, matched by id', async () => {
    await daemon.login();
    const gw = '3510170012';
    const village = await mqtt.connectAsync(broker.url, { protocolVersion: 4, reconnectPeriod: 0 });
    try {
      await village.subscribeAsync(`kampung/v1/${gw}/cmd/+`, { qos: 1 });
      village.on('message', (topic, payload) => {
        const { id } = JSON.parse(payload.toString()) as { id: string };
        // A reply for someone else first: it must not be taken for ours.
        void village.publishAsync(`${topic}/reply`, JSON.stringify({ id: 'other', ok: false }), { qos: 1 });
        void village.publishAsync(`${topic}/reply`, JSON.stringify({ id, ok: true, result: { pong: 1 } }), {
          qos: 1,
        });
      });
      const res = await daemon.http<{ ok: boolean; result: unknown }>(
        `/api/v1/villages/${gw}/commands/ping`,
        {
          method: 'POST',
          headers: { 'content-type': 'application/json', origin: daemon.origin, 'x-csrf-token': daemon.csrf },
          body: JSON.stringify({}),
        },
      );
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ ok: true, result: { pong: 1 } });
    } finally {
      await village.endAsync();
    }
  }, 30_000);
});
