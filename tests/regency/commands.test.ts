import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REMOTE_COMMANDS } from '../../src/report/command-names.js';
import { TestDaemon } from '../helpers/daemon.js';
import { TestBroker } from '../helpers/mosquitto.js';
import { waitFor } from '../helpers/net.js';
import { tempDir } from '../helpers/tmp.js';
import { DIALECTS, RegencyDaemon, regencyConfig, TestStore } from './helpers.js';

const GW = '3510170012'; // the test gateway's id (tests/helpers/daemon.ts), in the bundled registry
const SILENT = '3510170013'; // in the registry, no gateway behind it

interface Answer {
  id: string;
  ok: boolean;
  result?: Record<string, unknown>;
  error?: { code: string; message: string };
}
interface AuditEntry {
  id: string;
  actor: string;
  name: string;
  args: Record<string, unknown>;
  outcome: string;
  reply: Answer | null;
}

describe.each(DIALECTS)('commands from the regency to a real gateway (%s)', (dialect) => {
  const tmp = tempDir('kgw-regency-cmd-');
  const broker = new TestBroker();
  const store = new TestStore(dialect, tmp.path);
  let regency: RegencyDaemon;
  let gateway: TestDaemon;

  const post = async (code: string, name: string, body?: unknown) => {
    const res = await fetch(`http://127.0.0.1:${regency.port}/api/v1/villages/${code}/commands/${name}`, {
      method: 'POST',
      headers: {
        cookie: regency.cookie,
        origin: regency.origin,
        'x-csrf-token': regency.csrf,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as Answer & { error?: unknown } };
  };

  beforeAll(async () => {
    await broker.start();
    await store.create();
    regency = new RegencyDaemon(
      `${tmp.path}/regency`,
      regencyConfig(store, broker.url, { commands: { timeout_s: 2 } }),
    );
    await regency.start();
    await regency.login();
    gateway = await TestDaemon.start({
      dir: `${tmp.path}/gw`,
      config: {
        uplink: {
          probes: [{ name: 'router', layer: 'lan', type: 'tcp', host: '127.0.0.1', port: broker.port }],
        },
        mqtt: { url: broker.url, connect_delay_max_s: 0 },
      },
    });
    await gateway.waitForLog((l) => l.msg === 'mqtt: connected');
    await waitFor(
      async () =>
        (await regency.http<Array<{ code: string; last_seen: unknown }>>('/api/v1/fleet')).body.some(
          (v) => v.code === GW && v.last_seen !== null,
        ),
      15_000,
    );
  });
  afterAll(async () => {
    await gateway?.dispose();
    await regency?.kill();
    await broker.dispose();
    await store.drop();
    tmp.cleanup();
  });

  it('the gateway offers every command of the shared list', async () => {
    const c = await mqtt.connectAsync(broker.url, { protocolVersion: 5 });
    const status = new Promise<{ commands: string[] }>((resolve) =>
      c.on('message', (_t, p) => resolve(JSON.parse(p.toString()))),
    );
    await c.subscribeAsync(`kampung/v1/${GW}/status`, { qos: 1 });
    const s = await status;
    await c.endAsync(true);
    expect(s.commands).toEqual(expect.arrayContaining([...REMOTE_COMMANDS]));
  });

  it('sends an allow-listed command and returns the correlated reply, audited', async () => {
    const r = await post(GW, 'ping', { args: { probe: 'router' } });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ ok: true, result: { probe: 'router', outcome: 'ok' } });
    const cfg = await post(GW, 'get-config');
    expect(cfg.status).toBe(200);
    expect(cfg.body.result?.gateway).toMatchObject({ id: GW });
    // The gateway's refusal is an answer, not an HTTP error.
    const bad = await post(GW, 'set-log-level', { args: { level: 'loud', password: 'hunter2' } });
    expect(bad.status).toBe(200);
    expect(bad.body).toMatchObject({ ok: false, error: { code: 'bad_args' } });
    const audit = (await regency.http<AuditEntry[]>(`/api/v1/villages/${GW}/commands`)).body;
    expect(audit.map((a) => [a.name, a.outcome, a.actor])).toEqual([
      ['set-log-level', 'error', 'noc-test'],
      ['get-config', 'ok', 'noc-test'],
      ['ping', 'ok', 'noc-test'],
    ]);
    expect(audit[0]?.args).toEqual({ level: 'loud', password: '[redacted]' });
    expect(audit[0]?.id).toBe(bad.body.id);
    expect(audit[2]?.reply).toMatchObject({ ok: true, result: { probe: 'router' } });
    expect(JSON.stringify(audit)).not.toContain('hunter2');
  });

  it('answers 504 when the village does not reply in time, and audits the timeout', async () => {
    const t0 = performance.now();
    const r = await post(SILENT, 'diagnose');
    const took = performance.now() - t0;
    expect(r.status).toBe(504);
    expect(r.body.error).toBe('GW_ERR_COMMAND_TIMEOUT');
    expect(took).toBeGreaterThanOrEqual(1900);
    expect(took).toBeLessThan(6000);
    const audit = (await regency.http<AuditEntry[]>(`/api/v1/villages/${SILENT}/commands`)).body;
    expect(audit).toMatchObject([{ name: 'diagnose', outcome: 'timeout', reply: null }]);
  });

  it('refuses names outside the allow-list, bad bodies and unknown villages without sending', async () => {
    const wipe = await post(GW, 'wipe-cache');
    expect(wipe.status).toBe(400);
    expect((await post(GW, 'resend', { args: {} })).status).toBe(400);
    expect((await post(GW, 'ping', { args: [1] })).status).toBe(400);
    expect((await post(GW, 'ping', { probe: 'router' })).status).toBe(400);
    expect((await post('35101', 'ping')).status).toBe(400);
    expect((await post('3599999999', 'ping')).status).toBe(404);
    const audit = (await regency.http<AuditEntry[]>(`/api/v1/villages/${GW}/commands`)).body;
    expect(audit.some((a) => a.name === 'wipe-cache' || a.name === 'resend')).toBe(false);
  });
});
