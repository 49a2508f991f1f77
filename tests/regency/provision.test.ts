import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { REPO_ROOT } from '../helpers/daemon.js';
import type { TestBroker } from '../helpers/mosquitto.js';
import { sleep, waitFor } from '../helpers/net.js';
import { makeTestPki, type TestPki } from '../helpers/tls.js';
import { tempDir } from '../helpers/tmp.js';
import { writeVillages } from './fixture.js';
import { TestStore } from './helpers.js';
import {
  connectCollector,
  kgw,
  PREFIX,
  provisionedBroker,
  secretOf,
  tryConnect,
  writeProvisionConfig,
} from './provision-kit.js';

const A = '3510010001';
const B = '3510010002';
const C = '3510010003';
const P = PREFIX;

describe('regency provision: per-village broker identities on a real Mosquitto over TLS', () => {
  const tmp = tempDir('kgw-provision-');
  const store = new TestStore('sqlite', tmp.path);
  const out = join(tmp.path, 'out');
  const configPath = join(tmp.path, 'regency.yaml');
  let pki: TestPki;
  let broker: TestBroker;
  const clients: MqttClient[] = [];

  const bundle = (code: string) => join(out, 'villages', code);
  const userOf = (dir: string) =>
    (parse(readFileSync(join(dir, 'mqtt.yaml'), 'utf8')) as { username: string }).username;
  /** A village's connection, or the CONNACK code it was refused with. */
  const village = async (
    code: string,
    password = secretOf(bundle(code)),
    username = userOf(bundle(code)),
  ) => {
    const r = await tryConnect(broker.tlsUrl, {
      username,
      password,
      ca: readFileSync(pki.caFile),
      clientId: `gw-${code}-${Math.random()}`,
    });
    return { client: r.client, refused: r.refused === undefined ? undefined : Number(r.refused) };
  };
  const track = (c: MqttClient) => {
    clients.push(c);
    return c;
  };
  const collector = async () => track(await connectCollector(broker.url, out));

  beforeAll(async () => {
    pki = await makeTestPki(tmp.path);
    broker = await provisionedBroker(out, { tls: pki });
    writeProvisionConfig(configPath, {
      store,
      mqttUrl: broker.url,
      provision: { gateway_url: broker.tlsUrl, ca_file: pki.caFile },
      villagesFile: writeVillages(tmp.path, [
        'code,name,kecamatan',
        `${A},Satu,Uji`,
        `${B},Dua,Uji`,
        `${C},Tiga,Uji`,
      ]),
    });
    const r = await kgw('regency', 'provision', A, B, '--out', out, '--config', configPath);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    await broker.start();
  }, 60_000);

  afterAll(async () => {
    for (const c of clients) c.end(true);
    await broker?.dispose();
    tmp.cleanup();
  });

  it('writes the documented layout, secrets 0600 in 0700 folders, and stores only hashes', () => {
    for (const f of [
      'mosquitto/passwd',
      'mosquitto/acl',
      'collector/mqtt.yaml',
      'collector/mqtt.secret',
      'emqx/users.csv',
      'emqx/users.json',
      'emqx/authz-users.json',
      `villages/${A}/mqtt.yaml`,
      `villages/${A}/mqtt.secret`,
      `villages/${A}/ca.pem`,
    ])
      expect(existsSync(join(out, f)), f).toBe(true);
    for (const f of ['mosquitto/passwd', 'collector/mqtt.secret', `villages/${A}/mqtt.secret`])
      expect(statSync(join(out, f)).mode & 0o777, f).toBe(0o600);
    for (const d of ['', 'mosquitto', 'villages', `villages/${A}`])
      expect(statSync(join(out, d)).mode & 0o777, d).toBe(0o700);
    const block = parse(readFileSync(join(bundle(A), 'mqtt.yaml'), 'utf8'));
    expect(block).toMatchObject({ url: broker.tlsUrl, username: `gw-${A}`, password_file: 'mqtt.secret' });
    const secret = secretOf(bundle(A));
    expect(Buffer.from(secret, 'base64url').length).toBeGreaterThanOrEqual(16);
    const passwd = readFileSync(join(out, 'mosquitto', 'passwd'), 'utf8')
      .trim()
      .split('\n');
    expect(passwd.map((l) => l.split(':')[0]).sort()).toEqual([`gw-${A}`, `gw-${B}`, 'regency-collector']);
    for (const l of passwd) expect(l).toMatch(/^[^:]+:\$7\$101\$[A-Za-z0-9+/=]{16}\$[A-Za-z0-9+/=]{88}$/);
    const db = readFileSync(join(store.dataDir, 'regency.db'));
    expect(db.includes(Buffer.from(secret))).toBe(false);
  });

  it('a village publishes only as itself; the collector sees its own topics and nothing forged', async () => {
    const seen: Array<{ topic: string; retain: boolean }> = [];
    const col = await collector();
    col.on('message', (topic, _p, packet) => seen.push({ topic, retain: packet.retain }));
    await col.subscribeAsync(`${P}/#`, { qos: 1 });
    // MQTT 5: Mosquitto answers a denied QoS 1 publish with PUBACK 135 (not authorised), and
    // a denied retained one by closing the connection; each attempt gets its own connection.
    const attempt = async (topic: string, retain = false): Promise<number | 'closed'> => {
      const a = (await village(A)).client as MqttClient;
      try {
        await a.publishAsync(topic, '{"forged":1}', { qos: 1, retain });
        return 0;
      } catch (err) {
        return (err as { code?: number }).code ?? 'closed';
      } finally {
        a.end(true);
      }
    };
    expect(await attempt(`${P}/${B}/health`)).toBe(135);
    expect(await attempt(`${P}/${B}/status`, true)).toBeOneOf([135, 'closed']);
    expect(await attempt(`${P}/${B}/cmd/ping`)).toBe(135);
    expect(await attempt(`${P}/${A}/cmd/ping`)).toBe(135);
    expect(await attempt(`${P}/${A}/anything-else`)).toBe(135);
    expect(await attempt(`${P}-regency/kampung-regency-1/reply`)).toBe(0);
    expect(await attempt(`${P}/${A}/health`)).toBe(0);
    expect(await attempt(`${P}/${A}/cmd/ping/reply`)).toBe(0);
    await waitFor(() => seen.some((s) => s.topic === `${P}/${A}/cmd/ping/reply`));
    await sleep(200);
    expect(seen.map((s) => s.topic)).toEqual([`${P}/${A}/health`, `${P}/${A}/cmd/ping/reply`]);

    // No retained state for B was kept either: a fresh subscription gets none.
    const late = await collector();
    const retained: string[] = [];
    late.on('message', (t) => retained.push(t));
    await late.subscribeAsync(`${P}/${B}/#`, { qos: 1 });
    await sleep(300);
    expect(retained).toEqual([]);
  });

  it("a village reads its own commands, never another's; the collector sends to both", async () => {
    const a = track((await village(A)).client as MqttClient);
    const b = track((await village(B)).client as MqttClient);
    const got = { a: [] as string[], b: [] as string[] };
    a.on('message', (t) => got.a.push(t));
    b.on('message', (t) => got.b.push(t));
    await a.subscribeAsync(`${P}/${B}/cmd/+`, { qos: 1 });
    await a.subscribeAsync(`${P}/${A}/cmd/+`, { qos: 1 });
    await b.subscribeAsync(`${P}/${B}/cmd/+`, { qos: 1 });
    const col = await collector();
    await col.publishAsync(`${P}/${B}/cmd/ping`, '{"id":"1"}', { qos: 1 });
    await col.publishAsync(`${P}/${A}/cmd/ping`, '{"id":"2"}', { qos: 1 });
    await waitFor(() => got.a.length > 0 && got.b.length > 0);
    await sleep(200);
    expect(got).toEqual({ a: [`${P}/${A}/cmd/ping`], b: [`${P}/${B}/cmd/ping`] });
  });

  it('refuses a wrong password and a client without the CA', async () => {
    expect((await village(A, 'not-the-password-at-all')).refused).toBeOneOf([4, 5, 134, 135]);
    const noCa = await tryConnect(broker.tlsUrl, { username: `gw-${A}`, password: secretOf(bundle(A)) });
    expect(noCa.client).toBeUndefined();
  });

  it('revoke: the village cannot connect after the reload, the others still can', async () => {
    const passwordB = secretOf(bundle(B));
    const r = await kgw('regency', 'revoke', B, '--out', out, '--config', configPath);
    expect(r.code).toBe(0);
    broker.reload();
    await waitFor(async () => (await village(B, passwordB, `gw-${B}`)).refused !== undefined);
    expect((await village(B, passwordB, `gw-${B}`)).refused).toBeOneOf([4, 5, 134, 135]);
    expect(existsSync(bundle(B))).toBe(false);
    expect(readFileSync(join(out, 'mosquitto', 'acl'), 'utf8')).not.toContain(`user gw-${B}`);
    expect(readFileSync(join(out, 'mosquitto', 'acl'), 'utf8')).toContain(`topic deny ${P}/${B}/cmd/+`);
    const a = await village(A);
    expect(a.client).toBeDefined();
    a.client?.end(true);
  });

  it('re-provisioning rotates: both secrets work until the box is confirmed, then only the new; the passwd keeps every other village', async () => {
    const old = secretOf(bundle(A));
    const r = await kgw('regency', 'provision', A, C, '--out', out, '--config', configPath);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`${A}: rotated (gw-${A}.2)`);
    expect(r.stdout).toContain(`regency confirm ${A}`);
    expect(userOf(bundle(A))).toBe(`gw-${A}.2`);
    broker.reload();
    await waitFor(async () => (await village(C)).client?.end(true) !== undefined);
    for (const c of [await village(A, old, `gw-${A}`), await village(A)]) {
      expect(c.client).toBeDefined();
      c.client?.end(true);
    }
    const users = () =>
      readFileSync(join(out, 'mosquitto', 'passwd'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => l.split(':')[0])
        .sort();
    expect(users()).toEqual([`gw-${A}`, `gw-${A}.2`, `gw-${C}`, 'regency-collector']);
    // The box takes the rotated bundle like any other.
    const root = join(tmp.path, 'box-rotated');
    mkdirSync(join(root, 'etc', 'kampung-gateway'), { recursive: true });
    copyFileSync(
      join(REPO_ROOT, 'config', 'default.yaml'),
      join(root, 'etc', 'kampung-gateway', 'config.yaml'),
    );
    const installed = await kgw(
      'provision',
      bundle(A),
      '--root',
      root,
      '--config',
      '/etc/kampung-gateway/config.yaml',
    );
    expect(installed.stderr).toBe('');
    expect(installed.code).toBe(0);
    expect(installed.stdout).toContain('the regency retires the old identity by itself');
    const cfg = parse(readFileSync(join(root, 'etc', 'kampung-gateway', 'config.yaml'), 'utf8'));
    expect([cfg.gateway.id, cfg.mqtt.username]).toEqual([A, `gw-${A}.2`]);

    const confirmed = await kgw('regency', 'confirm', A, '--out', out, '--config', configPath);
    expect(confirmed.code).toBe(0);
    broker.reload();
    await waitFor(async () => (await village(A, old, `gw-${A}`)).refused !== undefined);
    const fresh = await village(A);
    expect(fresh.client).toBeDefined();
    fresh.client?.end(true);
    expect(users()).toEqual([`gw-${A}.2`, `gw-${C}`, 'regency-collector']);
    // Nothing awaits any more: confirming again is an error, and changes nothing.
    const twice = await kgw('regency', 'confirm', A, '--out', out, '--config', configPath);
    expect(twice.code).toBe(1);
    expect(twice.stderr).toContain('no rotation awaiting');
  });

  it('kampung-gw provision installs a bundle into a staged box; check-config and the broker check pass', async () => {
    const root = join(tmp.path, 'box');
    const etc = join(root, 'etc', 'kampung-gateway');
    mkdirSync(etc, { recursive: true });
    copyFileSync(join(REPO_ROOT, 'config', 'default.yaml'), join(etc, 'config.yaml'));
    const before = readFileSync(join(etc, 'config.yaml'), 'utf8');
    const r = await kgw(
      'provision',
      bundle(C),
      '--root',
      root,
      '--config',
      '/etc/kampung-gateway/config.yaml',
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('OK');
    const after = readFileSync(join(etc, 'config.yaml'), 'utf8');
    const cfg = parse(after);
    expect(cfg.gateway.id).toBe(C);
    expect(cfg.mqtt).toMatchObject({ url: broker.tlsUrl, username: `gw-${C}`, password_file: 'mqtt.secret' });
    // Comments of the rest of the file survive.
    const firstComment = before.split('\n').find((l) => l.trim().startsWith('#'));
    expect(after).toContain(firstComment);
    expect(statSync(join(etc, 'mqtt.secret')).mode & 0o777).toBe(0o600);
    expect(statSync(join(etc, 'mqtt-ca.pem')).mode & 0o777).toBe(0o644);

    const doctor = await kgw('doctor', '--config', join(etc, 'config.yaml'), '--json');
    const lines = (JSON.parse(doctor.stdout) as { checks: Array<{ check: string; status: string }> }).checks;
    expect(lines.find((l) => l.check === 'broker')?.status).toBe('ok');
    expect(lines.find((l) => l.check === 'secret_files')?.status).toBe('ok');
  });

  it('kampung-gw provision refuses a damaged bundle and leaves the config alone', async () => {
    const bad = join(tmp.path, 'bad-bundle');
    mkdirSync(bad, { recursive: true });
    writeFileSync(join(bad, 'mqtt.yaml'), 'url: mqtt://x\nusername: someone\n');
    const cfg = join(tmp.path, 'plain.yaml');
    copyFileSync(join(REPO_ROOT, 'config', 'default.yaml'), cfg);
    const r = await kgw('provision', bad, '--root', '/', '--config', cfg);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('mqtt.secret');
    expect(r.stderr).toContain('username');
    expect(readFileSync(cfg, 'utf8')).toBe(readFileSync(join(REPO_ROOT, 'config', 'default.yaml'), 'utf8'));
  });
});
