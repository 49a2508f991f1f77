import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeResult } from '../../src/upgrade/remote-request.js';
import { TestDaemon } from '../helpers/daemon.js';
import { TestBroker } from '../helpers/mosquitto.js';
import { sleep, waitFor } from '../helpers/net.js';

// The regency's `upgrade` command publishes its progress and its outcome on the command's reply
// topic (SPEC "MQTT": the MQTT 5 response topic with the correlation data, else
// {root}/cmd/upgrade/reply), every message `{ id, ok, result | error }` with the request's id:
// the first answer, the download's progress, the hand-over to the upgrade unit, and — from the
// daemon that runs after the restart — the outcome, also as an `event` through the outbox.

const ROOT = 'kampung/v1/3510170012';
const NAME = 'kampung-gateway-9.8.7-linux-x64.tar.gz';
const BODY = randomBytes(1024 * 1024);
const SUM = createHash('sha256').update(BODY).digest('hex');

interface Msg {
  topic: string;
  body: Record<string, unknown>;
  correlation: string | undefined;
}

const broker = new TestBroker();
let daemon: TestDaemon;
let noc: MqttClient;
let http: Server;
let port = 0;
const msgs: Msg[] = [];

beforeAll(async () => {
  await broker.start();
  http = createServer((req, res) => {
    if (req.url !== `/releases/${NAME}`) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-length': BODY.length });
    // In pieces, so the download reports progress more than once.
    let at = 0;
    const next = () => {
      if (at >= BODY.length) return void res.end();
      res.write(BODY.subarray(at, at + 128 * 1024));
      at += 128 * 1024;
      setTimeout(next, 5);
    };
    next();
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  port = (http.address() as { port: number }).port;
  daemon = await TestDaemon.start({ config: { mqtt: { url: broker.url, connect_delay_max_s: 0 } } });
  await daemon.waitForLog((l) => l.msg === 'mqtt: connected');
  noc = mqtt.connect(broker.url, { protocolVersion: 5, clientId: 'noc-progress' });
  noc.on('message', (topic, payload, packet) => {
    const cd = packet.properties?.correlationData;
    msgs.push({ topic, body: JSON.parse(payload.toString()), correlation: cd?.toString() });
  });
  await waitFor(() => noc.connected);
  await noc.subscribeAsync(['noc/upgrade-replies', `${ROOT}/event`], { qos: 1 });
  await sleep(300);
});
afterAll(async () => {
  await noc?.endAsync(true);
  await daemon?.dispose();
  await broker.dispose();
  await new Promise((r) => http.close(r));
});

const replies = (id: string) => msgs.filter((m) => m.topic === 'noc/upgrade-replies' && m.body.id === id);
const events = () =>
  msgs.filter(
    (m) => m.topic === `${ROOT}/event` && (m.body.data as { code?: string }).code === 'upgrade_finished',
  );

describe('upgrade progress and outcome on the reply topic', () => {
  it('answers at once, then the download by tenths, then the hand-over, all correlated', async () => {
    await noc.publishAsync(
      `${ROOT}/cmd/upgrade`,
      JSON.stringify({ id: 'up-1', args: { url: `http://127.0.0.1:${port}/releases/${NAME}`, sha256: SUM } }),
      {
        qos: 1,
        properties: { responseTopic: 'noc/upgrade-replies', correlationData: Buffer.from('corr-1') },
      },
    );
    await waitFor(() =>
      replies('up-1').find((m) => (m.body.result as { state?: string })?.state === 'requested'),
    );
    const all = replies('up-1');
    expect(all.every((m) => m.correlation === 'corr-1' && m.body.ok === true)).toBe(true);
    // The first is the answer the regency waits for; progress only follows it.
    expect(all[0]?.body.result).toMatchObject({ accepted: true, downloading: NAME });
    const progress = all
      .slice(1, -1)
      .map((m) => m.body.result as { state: string; bytes: number; total: number });
    expect(progress.length).toBeGreaterThanOrEqual(2);
    expect(progress.every((p) => p.state === 'downloading' && p.total === BODY.length)).toBe(true);
    expect(progress.map((p) => p.bytes)).toEqual([...progress.map((p) => p.bytes)].sort((a, b) => a - b));
    expect(all.at(-1)?.body.result).toMatchObject({ state: 'requested', bundle: NAME, bytes: BODY.length });
    // The request keeps where to answer, for the daemon that runs after the restart.
    const req = JSON.parse(readFileSync(join(daemon.dataDir, 'upgrades', 'request.json'), 'utf8'));
    expect(req.reply).toEqual({
      id: 'up-1',
      topic: 'noc/upgrade-replies',
      correlation: Buffer.from('corr-1').toString('base64'),
    });
  });

  it('the daemon that runs after the upgrade publishes the outcome once: the last reply and an event', async () => {
    const req = JSON.parse(readFileSync(join(daemon.dataDir, 'upgrades', 'request.json'), 'utf8'));
    // The upgrade restarts the daemon, waits for its /healthz and only then writes the outcome
    // (a rollback, here): the running daemon finds it within seconds.
    await daemon.stop();
    await daemon.start();
    writeResult(daemon.dataDir, {
      id: req.id,
      ok: false,
      outcome: 'rolled-back',
      restored: true,
      reason: 'unhealthy: /healthz never answered within 120 s',
      from: 'releases/0.1.0',
      to: 'releases/9.8.7',
      version: '9.8.7',
      at: '2026-01-01T00:00:00.000Z',
      reply: req.reply,
    });
    const last = await waitFor(() => replies('up-1').find((m) => m.body.ok === false), 10_000);
    expect(last.correlation).toBe('corr-1');
    expect(last.body.error).toEqual({
      code: 'failed',
      message:
        'rolled-back: unhealthy: /healthz never answered within 120 s; database restored from the snapshot',
    });
    const ev = await waitFor(() => events()[0], 10_000);
    expect(ev.body.data).toMatchObject({
      code: 'upgrade_finished',
      severity: 'warning',
      details: { outcome: 'rolled-back', from: 'releases/0.1.0', to: 'releases/9.8.7', restored: true },
    });
    // Once: another restart announces nothing more (the outbox may send the same envelope
    // again after a restart, at least once; consumers dedupe by its id).
    const count = msgs.length;
    await daemon.stop();
    await daemon.start();
    await daemon.waitForLog((l) => l.msg === 'mqtt: connected');
    await sleep(500);
    expect(msgs.slice(count).filter((m) => m.topic === 'noc/upgrade-replies')).toEqual([]);
    expect(new Set(events().map((m) => m.body.id)).size).toBe(1);
  });
});
