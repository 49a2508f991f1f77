import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestBroker } from '../helpers/mosquitto.js';
import { waitFor } from '../helpers/net.js';
import { tempDir } from '../helpers/tmp.js';
import { DIALECTS, RegencyDaemon, regencyCli, regencyConfig, TestStore } from './helpers.js';

const GW = '3510010001';

/**
 * Roles on regency accounts, through the real daemon and CLI: a viewer reads everything and
 * sends nothing (403, nothing on the broker, nothing audited); an operator's command leaves;
 * a role change applies to a session already open.
 */
describe.each(DIALECTS)('regency roles (%s)', (dialect) => {
  const tmp = tempDir('kgw-regency-roles-');
  const broker = new TestBroker();
  const store = new TestStore(dialect, tmp.path);
  let daemon: RegencyDaemon;
  let spy: MqttClient;
  const published: string[] = [];
  const sessions = new Map<string, { cookie: string; csrf: string }>();

  const as = (name: string) => {
    const s = sessions.get(name);
    if (!s) throw new Error(`no session ${name}`);
    return s;
  };
  const send = async (who: string, command = 'diagnose') => {
    const s = as(who);
    return daemon.http<{ error?: string }>(`/api/v1/villages/${GW}/commands/${command}`, {
      method: 'POST',
      headers: {
        cookie: s.cookie,
        origin: daemon.origin,
        'x-csrf-token': s.csrf,
        'content-type': 'application/json',
      },
      body: '{}',
    });
  };
  const read = (who: string, path: string) =>
    daemon.http<unknown>(path, { headers: { cookie: as(who).cookie } });
  const cfg = () => ['--config', daemon.configPath];

  beforeAll(async () => {
    await broker.start();
    await store.create();
    daemon = new RegencyDaemon(
      `${tmp.path}/regency`,
      regencyConfig(store, broker.url, { commands: { timeout_s: 1 } }),
    );
    await daemon.start();
    for (const [name, role] of [
      ['noc-lihat', 'viewer'],
      ['noc-kirim', 'operator'],
      ['noc-kepala', 'admin'],
    ] as const) {
      await daemon.login(name, 'sandi-rahasia-uji', role);
      sessions.set(name, { cookie: daemon.cookie, csrf: daemon.csrf });
    }
    spy = await mqtt.connectAsync(broker.url, { protocolVersion: 5 });
    spy.on('message', (topic) => published.push(topic));
    await spy.subscribeAsync(`kampung/v1/${GW}/cmd/+`, { qos: 1 });
  });
  afterAll(async () => {
    await spy?.endAsync(true);
    await daemon?.kill();
    await broker.dispose();
    await store.drop();
    tmp.cleanup();
  });

  it('the session says who and which role', async () => {
    for (const [name, role] of [
      ['noc-lihat', 'viewer'],
      ['noc-kirim', 'operator'],
      ['noc-kepala', 'admin'],
    ] as const)
      expect((await read(name, '/api/v1/session')).body).toMatchObject({ authenticated: true, name, role });
  });

  it('a viewer reads the wall, reports, incidents and the audit, and cannot send a command', async () => {
    for (const path of [
      '/api/v1/fleet',
      '/api/v1/reports/availability?month=2024-03',
      '/api/v1/incidents',
      `/api/v1/villages/${GW}/commands`,
    ])
      expect((await read('noc-lihat', path)).status, path).toBe(200);
    const r = await send('noc-lihat');
    expect(r.status).toBe(403);
    expect(r.body.error).toBe('GW_ERR_FORBIDDEN');
    // An operator's command does leave (and times out: no gateway answers here).
    expect((await send('noc-kirim')).status).toBe(504);
    expect((await send('noc-kepala', 'ping')).status).toBe(504);
    await waitFor(() => published.length >= 2, 5_000);
    expect(published).toEqual([`kampung/v1/${GW}/cmd/diagnose`, `kampung/v1/${GW}/cmd/ping`]);
    const audit = (await read('noc-lihat', `/api/v1/villages/${GW}/commands`)).body as Array<{
      actor: string;
    }>;
    expect(audit.map((a) => a.actor).sort()).toEqual(['noc-kepala', 'noc-kirim']);
  });

  it('a role change applies to the open session; a demoted operator is refused at once', async () => {
    expect((await regencyCli(['user', 'role', 'noc-lihat', 'operator', ...cfg()])).code).toBe(0);
    expect((await regencyCli(['user', 'role', 'noc-kirim', 'viewer', ...cfg()])).code).toBe(0);
    expect((await send('noc-lihat')).status).toBe(504);
    expect((await send('noc-kirim')).status).toBe(403);
    expect((await read('noc-kirim', '/api/v1/session')).body).toMatchObject({ role: 'viewer' });
  });

  // The CLI's checks do not depend on the store: run once, on SQLite, to keep the file short.
  if (dialect === 'sqlite')
    it('the CLI refuses unknown roles and misuse; a new account without --role is a viewer', async () => {
      expect((await regencyCli(['user', 'role', 'noc-lihat', 'root', ...cfg()])).code).toBe(1);
      expect(
        (await regencyCli(['user', 'add', 'noc-baru', '--role', 'super', ...cfg()], 'sandi-rahasia-uji\n'))
          .code,
      ).toBe(1);
      expect(
        (await regencyCli(['user', 'passwd', 'noc-lihat', '--role', 'admin', ...cfg()], 'x\n')).code,
      ).toBe(2);
      const added = await regencyCli(['user', 'add', 'noc-baru', ...cfg()], 'sandi-rahasia-uji\n');
      expect(added.out).toContain('(viewer)');
      await daemon.login('noc-baru', 'sandi-rahasia-uji');
      sessions.set('noc-baru', { cookie: daemon.cookie, csrf: daemon.csrf });
      expect((await send('noc-baru')).status).toBe(403);
    });
});
