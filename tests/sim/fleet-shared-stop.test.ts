import type { MqttClient } from 'mqtt';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SystemClock } from '../../src/core/clock.js';
import { Scheduler } from '../../src/core/scheduler.js';
import { SharedConnections } from '../../src/sim/fleet/shared-session.js';
import { simGatewayConfig } from '../../src/sim/fleet/sim-config.js';
import { ConnectGate, type Session } from '../../src/sim/fleet/village-session.js';
import { TestBroker } from '../helpers/mosquitto.js';
import { sleep, waitFor } from '../helpers/net.js';

describe('fleet-sim --per-connection: a village stopped twice', () => {
  const broker = new TestBroker();
  const scheduler = new Scheduler({ clock: new SystemClock(), log: pino({ level: 'silent' }) });

  beforeAll(async () => {
    await broker.start();
  });

  afterAll(async () => {
    await broker.dispose();
  });

  it('leaves the shared socket open for the villages still running', async () => {
    const mqtt = simGatewayConfig({ url: broker.url, prefix: 'kampung/v1', protocol: 5 }).mqtt;
    if (!mqtt) throw new Error('no mqtt block');
    const shared = new SharedConnections(2, { mqtt, gate: new ConnectGate(2), scheduler });
    const session = (gw: string): Session =>
      shared.session({
        mqtt,
        gw,
        statusTopic: `kampung/v1/${gw}/status`,
        gate: new ConnectGate(2),
        scheduler,
        wanted: () => true,
        onUp: (_c: MqttClient) => {},
        onDown: () => {},
        onMessage: () => {},
        onError: () => {},
      });
    const a = session('3510010001');
    const b = session('3510010002');
    a.connect('boot-a');
    b.connect('boot-b');
    await waitFor(async () => a.up && b.up, 10_000);
    const ts = new Date().toISOString();
    await a.stop(ts);
    await a.stop(ts);
    await sleep(300);
    expect(b.up).toBe(true);
    const client = b.current;
    expect(client?.connected).toBe(true);
    await client?.publishAsync('kampung/v1/3510010002/probe', 'still here', { qos: 1 });
    await b.stop(ts);
    expect(b.current).toBeUndefined();
  });
});
