import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestBroker } from '../helpers/mosquitto.js';
import { waitFor } from '../helpers/net.js';
import { tempDir } from '../helpers/tmp.js';
import { type Received, Subscriber } from '../report/subscriber.js';
import { envelopes, FleetSimProcess, kindOf, type Summary } from './fleet-harness.js';

const CODES = ['3510010001', '3510010002', '3510010003', '3510010004', '3510010005', '3510010006'];
const FIBER = '3510010005';

type Env = Received & { json: { gw: string; seq: number; id: string; historical: boolean } };

/** Established TCP connections to the broker's port (the test's own two included). */
function connectionsTo(port: number): number {
  const out = execFileSync('ss', ['-Htn', 'state', 'established', `( dport = :${port} )`], {
    encoding: 'utf8',
  });
  return out.split('\n').filter((l) => l.trim() !== '').length;
}

describe('fleet-sim --per-connection: many villages on one MQTT connection', () => {
  const broker = new TestBroker();
  const tmp = tempDir('kgw-sim-shared-');
  let sub: Subscriber;
  let noc: mqtt.MqttClient;
  let sim: FleetSimProcess | undefined;
  let summary: Summary;
  let connections = 0;
  let reply: Record<string, unknown> | undefined;

  beforeAll(async () => {
    await broker.start();
    sub = await Subscriber.connect(broker.url, 'kampung/v1/#');
    noc = await mqtt.connectAsync(broker.url, { protocolVersion: 5, clientId: 'noc-shared' });
    await noc.subscribeAsync(`kampung/v1/${FIBER}/cmd/ping/reply`, { qos: 1 });
    noc.on('message', (_t, payload) => {
      reply = JSON.parse(payload.toString()) as Record<string, unknown>;
    });
    const list = join(tmp.path, 'villages.csv');
    writeFileSync(
      list,
      `code,name,kecamatan,isp\n${CODES.map((c, i) => `${c},DESA ${i + 1},GLAGAH,ISP-A\n`).join('')}`,
    );
    sim = new FleetSimProcess([
      ...['--mqtt', broker.url, '--villages-file', list, '--per-connection', '3', '--speed', '300'],
      ...['--duration', '5', '--linger', '60', '--seed', '3', '--fault-rate', '0', '--usage-per-hour', '300'],
      ...['--fault', `fiber:600:600:${FIBER}`],
    ]);
    await sim.drained();
    connections = connectionsTo(Number(new URL(broker.url).port));
    // A command to a village that shares its connection reaches that village only.
    await noc.publishAsync(
      `kampung/v1/${FIBER}/cmd/ping`,
      JSON.stringify({ id: 'p1', args: { probe: 'router' } }),
      {
        qos: 1,
      },
    );
    await waitFor(() => reply !== undefined);
    summary = await sim.stop();
  }, 120_000);

  afterAll(async () => {
    sim?.kill();
    await noc?.endAsync(true);
    await sub?.close();
    await broker.dispose();
    tmp.cleanup();
  });

  it('six villages over two connections: the summary counts exactly the distinct envelopes received', () => {
    // The subscriber, the NOC client and the simulator's two shared connections.
    expect(connections).toBe(4);
    const env = envelopes(sub.messages);
    expect(summary.villages).toBe(6);
    expect(summary.published.total).toBe(new Set(env.map((m) => m.json.id)).size);
    for (const gw of CODES) {
      const seqs = new Set(env.filter((m) => m.json.gw === gw).map((m) => m.json.seq as number));
      expect(seqs.size, gw).toBeGreaterThan(0);
      expect(seqs.size, gw).toBe(Math.max(...seqs));
      // Every village publishes its own birth on the shared connection.
      expect(
        sub.on(`${gw}/status`).some((m) => m.json.online === true),
        gw,
      ).toBe(true);
    }
  });

  it('a cut village replays its backlog and outage; without a Will of its own it just falls quiet', () => {
    const mine = envelopes(sub.messages).filter((m) => m.json.gw === FIBER) as Env[];
    const outage = mine.filter((m) => kindOf(m.topic) === 'outage');
    expect(outage).toHaveLength(1);
    expect((outage[0] as Env).json.historical).toBe(true);
    expect(
      mine.filter((m) => m.json.historical && kindOf(m.topic) === 'health').length,
    ).toBeGreaterThanOrEqual(8);
    const status = sub.on(`${FIBER}/status`).map((m) => m.json);
    expect(status.filter((s) => s.online === false && s.clean === undefined)).toEqual([]);
    // It came back: a second birth after the cut, then the clean stop.
    expect(status.filter((s) => s.online === true).length).toBeGreaterThanOrEqual(2);
    expect(status.at(-1)).toMatchObject({ online: false, clean: true });
    expect(reply).toMatchObject({ id: 'p1', ok: true });
  });
});
