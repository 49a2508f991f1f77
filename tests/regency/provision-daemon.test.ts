import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { TestDaemon } from '../helpers/daemon.js';
import type { TestBroker } from '../helpers/mosquitto.js';
import { waitFor } from '../helpers/net.js';
import { makeTestPki, type TestPki } from '../helpers/tls.js';
import { tempDir } from '../helpers/tmp.js';
import { Subscriber } from '../report/subscriber.js';
import { TestStore } from './helpers.js';
import { kgw, PREFIX, provisionedBroker, secretOf, writeProvisionConfig } from './provision-kit.js';

/**
 * Checks this machine cannot pass, whatever the product does: no systemd as PID 1 (the test
 * runs the daemon itself) and no CPU temperature sensor. Anywhere they exist they must be ✓.
 */
const ABSENT_HERE = new Set([
  ...(existsSync('/run/systemd/system') ? [] : ['systemd']),
  ...(readdirSync('/sys/class/thermal', { withFileTypes: true }).some((e) =>
    e.name.startsWith('thermal_zone'),
  )
    ? []
    : ['temperature']),
]);
const V = '3510170012'; // Kemiren, Glagah
const P = PREFIX;

type DoctorJson = { ok: boolean; checks: Array<{ check: string; status: string; summary: string }> };

/*
 * The whole onboarding of one box, on real parts: the regency provisions the village against a
 * real Mosquitto (password file, ACL, TLS 1.2+), the box installs the bundle with
 * `kampung-gw provision`, the real daemon runs on that config and doctor is all ✓. Then the
 * regency revokes the village: the daemon is refused, and doctor says why.
 */
describe('a provisioned box: real daemon over TLS with doctor all ✓, then revoked', () => {
  const tmp = tempDir('kgw-prov-daemon-');
  const store = new TestStore('sqlite', tmp.path);
  const out = join(tmp.path, 'out');
  const regencyConfig = join(tmp.path, 'regency.yaml');
  const box = join(tmp.path, 'box');
  let pki: TestPki;
  let broker: TestBroker;
  let daemon: TestDaemon;
  let collector: Subscriber;

  const doctor = async (lang = 'en') => {
    const r = await kgw('doctor', '--config', daemon.configPath, '--json', '--lang', lang);
    return { code: r.code, json: JSON.parse(r.stdout) as DoctorJson };
  };

  beforeAll(async () => {
    pki = await makeTestPki(tmp.path);
    broker = await provisionedBroker(out, { tls: pki });
    writeProvisionConfig(regencyConfig, {
      store,
      mqttUrl: broker.url,
      provision: { gateway_url: broker.tlsUrl, ca_file: pki.caFile },
    });
    const r = await kgw('regency', 'provision', V, '--out', out, '--config', regencyConfig);
    expect(r.code, r.stderr).toBe(0);
    await broker.start();
    collector = await Subscriber.connect(broker.url, `${P}/#`, {
      username: 'regency-collector',
      password: secretOf(join(out, 'collector')),
    });

    // The box as imaged: the regency's placeholder broker, a short first-connect delay (kept by
    // provision, which writes only the identity keys), a synced clock, a LAN probe.
    const flag = join(box, 'synchronized');
    daemon = new TestDaemon({
      dir: box,
      config: {
        uplink: { probes: [{ name: 'router', layer: 'lan', type: 'icmp', host: '127.0.0.1' }] },
        system: { timesync_flag: flag, disk_floor_mb: 1 },
        mqtt: { url: 'mqtts://mqtt.example:8883', connect_delay_max_s: 1, reconnect_max_s: 2 },
      },
    });
    writeFileSync(flag, '');
    chmodSync(box, 0o755);
    // As scripts/install.sh leaves a box: the data folder exists, the database does not yet.
    mkdirSync(daemon.dataDir, { recursive: true });
  }, 60_000);

  afterAll(async () => {
    await collector?.close();
    await daemon?.dispose();
    await broker?.dispose();
    tmp.cleanup();
  });

  it('kampung-gw provision installs the bundle and its doctor is all ✓', async () => {
    const r = await kgw('provision', join(out, 'villages', V), '--config', daemon.configPath);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^✓ Broker mqtts:\/\/127\.0\.0\.1:\d+ terjangkau, TLS sah, login diterima/m);
    expect(r.stdout, r.stdout).not.toMatch(/^✗ /m);
    // Before the daemon's first start the only warning is the database it has yet to create.
    expect(r.stdout.split('\n').filter((l) => l.startsWith('! '))).toEqual([
      expect.stringMatching(/^! Belum ada database/),
    ]);
    expect(r.code, r.stdout).toBe(0);
    const cfg = parse(readFileSync(daemon.configPath, 'utf8'));
    expect(cfg.mqtt).toMatchObject({
      url: broker.tlsUrl,
      username: `gw-${V}`,
      ca_file: 'mqtt-ca.pem',
      connect_delay_max_s: 1,
    });
  });

  it('the real daemon connects over TLS with the bundle, reports, and doctor stays all ✓', async () => {
    await daemon.start();
    await daemon.waitForLog((l) => l.msg === 'mqtt: connected', 15_000);
    await waitFor(
      () => collector.messages.some((m) => m.topic === `${P}/${V}/status` && m.json.online),
      15_000,
    );
    const d = await doctor();
    const notOk = d.json.checks.filter(
      (c) => c.status !== 'ok' && !(c.status === 'skip' && ABSENT_HERE.has(c.check)),
    );
    expect(notOk, JSON.stringify(notOk)).toEqual([]);
    expect(d.code).toBe(0);
  });

  it('revoked: the broker refuses the daemon, and doctor says why in plain words', async () => {
    const r = await kgw('regency', 'revoke', V, '--out', out, '--config', regencyConfig);
    expect(r.code, r.stderr).toBe(0);
    // A reload keeps connected clients: a restart makes the box connect again, as after any cut.
    await broker.restart();
    const refused = await daemon.waitForLog(
      (l) => l.msg === 'mqtt: connection error' && [134, 135, 4, 5].includes(Number(l.code)),
      20_000,
    );
    expect(refused.code).toBeDefined();
    expect(daemon.proc?.exitCode).toBeNull();

    const en = await doctor('en');
    expect(en.code).toBe(1);
    const broken = en.json.checks.find((c) => c.check === 'broker');
    expect(broken?.status).toBe('fail');
    expect(JSON.stringify(broken)).toMatch(
      new RegExp(
        `refused this box's identity \\(gw-${V}, code 13[45]: (not authorised|wrong user name or password)\\)`,
      ),
    );
    expect(JSON.stringify(broken)).toMatch(/revoked or replaced this village's identity/);
    expect(JSON.stringify(broken)).toMatch(/kampung-gw provision <bundle folder>/);
    const id = await doctor('id');
    expect(JSON.stringify(id.json.checks.find((c) => c.check === 'broker'))).toMatch(
      /menolak identitas kotak ini.*mencabut atau mengganti identitas desa ini/,
    );
  });
});
