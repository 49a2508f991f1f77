import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestDaemon } from '../helpers/daemon.js';
import { TestBroker } from '../helpers/mosquitto.js';
import { sleep, waitFor } from '../helpers/net.js';
import { tempDir } from '../helpers/tmp.js';

const ROOT = 'kampung/v1/3510170012';
const ERROR_CODES = ['unknown_command', 'malformed', 'too_large', 'bad_args', 'not_available', 'failed'];

interface Reply {
  topic: string;
  body: { id: string | null; ok: boolean; result?: unknown; error?: { code: string; message: string } };
  correlation: string | undefined;
}

describe('remote commands', () => {
  const broker = new TestBroker();
  const tmp = tempDir('kgw-cmd-');
  let daemon: TestDaemon;
  let v5: MqttClient;
  let v4: MqttClient;
  const replies: Reply[] = [];
  let corr = 0;

  beforeAll(async () => {
    await broker.start();
    writeFileSync(join(tmp.path, 'mqtt.secret'), 'very-secret\n');
    daemon = await TestDaemon.start({
      config: {
        uplink: {
          probes: [
            { name: 'router', layer: 'lan', type: 'tcp', host: '127.0.0.1', port: broker.port },
            { name: 'closed', layer: 'isp', type: 'tcp', host: '127.0.0.1', port: 9 },
          ],
        },
        mqtt: {
          url: broker.url,
          username: 'gw-3510170012',
          password_file: join(tmp.path, 'mqtt.secret'),
          connect_delay_max_s: 0,
        },
      },
    });
    await daemon.waitForLog((l) => l.msg === 'mqtt: connected');
    v5 = mqtt.connect(broker.url, { protocolVersion: 5, clientId: 'noc-v5' });
    v4 = mqtt.connect(broker.url, { protocolVersion: 4, clientId: 'noc-v4' });
    for (const c of [v5, v4]) {
      c.on('message', (topic, payload, packet) => {
        const cd = packet.properties?.correlationData;
        replies.push({
          topic,
          body: JSON.parse(payload.toString()),
          correlation: cd ? cd.toString() : undefined,
        });
      });
    }
    await waitFor(() => v5.connected && v4.connected);
    await v5.subscribeAsync('noc/replies', { qos: 1 });
    await v4.subscribeAsync(`${ROOT}/cmd/+/reply`, { qos: 1 });
    await sleep(300); // the daemon's own subscription is in place once connected
  });
  afterAll(async () => {
    await v5?.endAsync(true);
    await v4?.endAsync(true);
    await daemon?.dispose();
    await broker.dispose();
    tmp.cleanup();
  });

  /** MQTT 5 request: reply on our response topic with our correlation data. */
  async function call5(name: string, payload: string | Buffer): Promise<Reply> {
    const c = `c-${++corr}`;
    await v5.publishAsync(`${ROOT}/cmd/${name}`, payload, {
      qos: 1,
      properties: { responseTopic: 'noc/replies', correlationData: Buffer.from(c) },
    });
    return waitFor(() => replies.find((r) => r.correlation === c), 5000, 10);
  }

  /** MQTT 3.1.1 request: reply on {root}/cmd/{name}/reply carrying our id. */
  async function call4(name: string, id: string, args?: unknown): Promise<Reply> {
    await v4.publishAsync(`${ROOT}/cmd/${name}`, JSON.stringify({ id, args }), { qos: 1 });
    return waitFor(
      () => replies.find((r) => r.topic === `${ROOT}/cmd/${name}/reply` && r.body.id === id),
      5000,
      10,
    );
  }

  it('get-config answers with correlation data, secrets removed, *_file paths kept', async () => {
    const r = await call5('get-config', JSON.stringify({ id: 'g1' }));
    expect(r.topic).toBe('noc/replies');
    expect(r.body).toMatchObject({ id: 'g1', ok: true });
    const cfg = r.body.result as { mqtt: Record<string, unknown> };
    expect(cfg.mqtt.username).toBe('gw-3510170012');
    expect(cfg.mqtt.password_file).toBe(join(tmp.path, 'mqtt.secret'));
    expect(JSON.stringify(r.body)).not.toContain('very-secret');
  });

  it('each allow-listed command replies, correlated, over MQTT 3.1.1 too', async () => {
    expect((await call4('flush-outbox', 'f1')).body).toMatchObject({ ok: true, result: { connected: true } });
    expect((await call4('get-config', 'g2')).body.ok).toBe(true);
    // ping runs a configured probe by name: a dead target is a result, not an error.
    expect((await call4('ping', 'p1', { probe: 'router' })).body).toMatchObject({
      ok: true,
      result: { probe: 'router', outcome: 'ok' },
    });
    expect((await call4('ping', 'p3', { probe: 'closed' })).body).toMatchObject({
      ok: true,
      result: { outcome: 'refused' },
    });
    expect((await call4('ping', 'p2', { probe: 'nope' })).body.error?.code).toBe('bad_args');
    // diagnose runs the whole ladder once: the closed port is the lowest failing layer.
    const diag = await call4('diagnose', 'd1');
    expect(diag.body).toMatchObject({ id: 'd1', ok: true });
    expect((diag.body.result as { steps: unknown[] }).steps.length).toBe(2);
    expect((diag.body.result as { fault_layer: string }).fault_layer).toBe('isp');
    expect((await call4('refresh-cache', 'r1')).body).toMatchObject({ id: 'r1', ok: true });
    expect((await call4('set-log-level', 'l0', { level: 'loud' })).body.error?.code).toBe('bad_args');
  });

  it('set-log-level takes effect and expires on its own', async () => {
    const r = await call5(
      'set-log-level',
      JSON.stringify({ id: 'l1', args: { level: 'debug', expires_s: 2 } }),
    );
    expect(r.body).toMatchObject({
      id: 'l1',
      ok: true,
      result: { level: 'debug', expires_s: 2, restores_to: 'info' },
    });
    await daemon.waitForLog((l) => l.msg === 'log level restored', 5000);
  });

  it('unknown, malformed and oversized requests get an error reply and change nothing', async () => {
    const before = (await call5('get-config', JSON.stringify({ id: 'b' }))).body.result;
    const logCount = daemon.logs.length;
    expect((await call5('rm-rf', JSON.stringify({ id: 'u1' }))).body).toMatchObject({
      id: 'u1',
      ok: false,
      error: { code: 'unknown_command' },
    });
    expect((await call5('get-config', 'not json')).body).toMatchObject({
      id: null,
      ok: false,
      error: { code: 'malformed' },
    });
    expect((await call5('get-config', '[1]')).body.error?.code).toBe('malformed');
    expect((await call5('get-config', JSON.stringify({ id: 'x', args: 3 }))).body.error?.code).toBe(
      'malformed',
    );
    expect((await call5('get-config', JSON.stringify({ id: 'x', extra: 1 }))).body.error?.code).toBe(
      'malformed',
    );
    const big = JSON.stringify({ id: 'big', args: { pad: 'x'.repeat(9000) } });
    expect((await call5('set-log-level', big)).body.error?.code).toBe('too_large');
    expect((await call5('get-config', JSON.stringify({ id: 'a' }))).body.result).toEqual(before);
    const refusals = daemon.logs.slice(logCount).filter((l) => l.msg === 'remote command refused');
    expect(refusals.length).toBe(6);
    expect(daemon.logs.slice(logCount).some((l) => l.msg === 'log level changed by remote command')).toBe(
      false,
    );
  });

  it('fuzzed requests: always exactly one well-formed reply, no crash, nothing changes', async () => {
    const allowed = ['ping', 'diagnose', 'refresh-cache', 'flush-outbox', 'get-config', 'set-log-level'];
    const name = fc.oneof(
      fc.constantFrom(...allowed.filter((n) => n !== 'set-log-level')),
      fc.stringMatching(/^[A-Za-z0-9._-]{1,40}$/),
    );
    const payload = fc.oneof(
      fc.json().map((s) => Buffer.from(s)),
      fc
        .record({ id: fc.string(), args: fc.anything() })
        .map((o) => Buffer.from(JSON.stringify(o) ?? 'null')),
      fc.uint8Array({ maxLength: 512 }).map((a) => Buffer.from(a)),
      fc.nat({ max: 20_000 }).map((n) => Buffer.from(`{"id":"z","args":{"p":"${'y'.repeat(n)}"}}`)),
    );
    const before = (await call5('get-config', JSON.stringify({ id: 'b' }))).body.result;
    const logsFrom = daemon.logs.length;
    await fc.assert(
      fc.asyncProperty(name, payload, async (n, p) => {
        const r = await call5(n, p);
        expect(typeof r.body.ok).toBe('boolean');
        if (!allowed.includes(n)) expect(r.body.ok).toBe(false);
        if (p.length > 8192) expect(r.body.error?.code).toBe('too_large');
        if (!r.body.ok) expect(ERROR_CODES).toContain(r.body.error?.code);
      }),
      { numRuns: 120 },
    );
    expect((await call5('get-config', JSON.stringify({ id: 'a' }))).body.result).toEqual(before);
    expect((await fetch(`${daemon.url}/healthz`)).status).toBe(200);
    const during = daemon.logs.slice(logsFrom);
    expect(during.some((l) => l.msg === 'log level changed by remote command')).toBe(false);
    expect(during.some((l) => l.level === 'debug')).toBe(false);
  }, 60_000);
});
