import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ensureClientCa, issueClientCert } from '../../src/regency/provision/client-ca.js';
import { REPO_ROOT } from '../helpers/daemon.js';
import type { TestBroker } from '../helpers/mosquitto.js';
import { freePort, sleep, waitFor } from '../helpers/net.js';
import { makeTestPki, type TestPki } from '../helpers/tls.js';
import { tempDir } from '../helpers/tmp.js';
import { writeVillages } from './fixture.js';
import { TestStore } from './helpers.js';
import {
  certListener,
  connectCollector,
  kgw,
  PREFIX,
  provisionedBroker,
  tryConnect,
  writeProvisionConfig,
} from './provision-kit.js';

const run = promisify(execFile);
const A = '3510010001';
const B = '3510010002';
const P = PREFIX;

describe('client certificates: regency provision --cert on a real Mosquitto (require_certificate, identity as username, CRL)', () => {
  const tmp = tempDir('kgw-prov-cert-');
  const store = new TestStore('sqlite', tmp.path);
  const out = join(tmp.path, 'out');
  const configPath = join(tmp.path, 'regency.yaml');
  let pki: TestPki;
  let broker: TestBroker;
  let certPort = 0;
  const clients: MqttClient[] = [];

  const bundle = (code: string) => join(out, 'villages', code);
  const certOf = (dir: string) => ({
    cert: readFileSync(join(dir, 'client.pem')),
    key: readFileSync(join(dir, 'client.key')),
  });
  const asVillage = (creds: { cert: Buffer; key: Buffer }) =>
    tryConnect(`mqtts://127.0.0.1:${certPort}`, {
      ...creds,
      ca: readFileSync(pki.caFile),
      clientId: `v-${Math.random()}`,
    });
  const collector = async () => {
    const c = await connectCollector(broker.url, out);
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    pki = await makeTestPki(tmp.path);
    certPort = await freePort();
    broker = await provisionedBroker(out, {
      extraConfig: certListener(certPort, out, pki),
    });
    writeProvisionConfig(configPath, {
      store,
      mqttUrl: 'mqtt://127.0.0.1:1883',
      provision: { ca_file: pki.caFile, cert_url: `mqtts://127.0.0.1:${certPort}` },
      villagesFile: writeVillages(tmp.path, ['code,name,kecamatan', `${A},Satu,Uji`, `${B},Dua,Uji`]),
    });
    const r = await kgw('regency', 'provision', A, B, '--cert', '--out', out, '--config', configPath);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    await broker.start();
  }, 60_000);

  afterAll(async () => {
    for (const c of clients) c.end(true);
    await broker?.dispose();
    tmp.cleanup();
  });

  it('each bundle carries its own certificate (CN gw-<code>, key 0600); the store keeps only the serial', () => {
    const block = parse(readFileSync(join(bundle(A), 'mqtt.yaml'), 'utf8'));
    expect(block).toMatchObject({
      url: `mqtts://127.0.0.1:${certPort}`,
      username: `gw-${A}`,
      cert_file: 'mqtt-client.pem',
      key_file: 'mqtt-client.key',
    });
    expect(statSync(join(bundle(A), 'client.key')).mode & 0o777).toBe(0o600);
    expect(statSync(join(out, 'ca', 'client-ca.key')).mode & 0o777).toBe(0o600);
    const db = readFileSync(join(store.dataDir, 'regency.db'));
    const keyBody = readFileSync(join(bundle(A), 'client.key'), 'utf8').split('\n')[1] as string;
    expect(db.includes(Buffer.from(keyBody))).toBe(false);
  });

  it('a certificate is the identity: A publishes as itself only; no certificate or a foreign CA is refused', async () => {
    const seen: string[] = [];
    const col = await collector();
    col.on('message', (t) => seen.push(t));
    await col.subscribeAsync(`${P}/#`, { qos: 1 });
    const a = await asVillage(certOf(bundle(A)));
    expect(a.refused).toBeUndefined();
    clients.push(a.client as MqttClient);
    await a.client?.publishAsync(`${P}/${A}/health`, '{}', { qos: 1 });
    await expect(
      a.client?.publishAsync(`${P}/${B}/health`, '{"forged":1}', { qos: 1 }),
    ).rejects.toMatchObject({
      code: 135,
    });
    await waitFor(() => seen.includes(`${P}/${A}/health`));
    await sleep(200);
    expect(seen).toEqual([`${P}/${A}/health`]);

    const none = await tryConnect(`mqtts://127.0.0.1:${certPort}`, { ca: readFileSync(pki.caFile) });
    expect(none.client).toBeUndefined();
    const rogueCa = await ensureClientCa(join(tmp.path, 'rogue'));
    const rogue = await issueClientCert(rogueCa, `gw-${A}`);
    const forged = await asVillage({ cert: Buffer.from(rogue.cert), key: Buffer.from(rogue.key) });
    expect(forged.client).toBeUndefined();
  });

  it('revoke puts the certificate in the CRL: refused after the broker reads it, B unaffected', async () => {
    const old = certOf(bundle(A));
    const serial = (
      await run('openssl', ['x509', '-noout', '-serial', '-in', join(bundle(A), 'client.pem')])
    ).stdout
      .trim()
      .replace('serial=', '');
    const crl = async () =>
      (await run('openssl', ['crl', '-noout', '-text', '-in', join(out, 'mosquitto', 'crl.pem')])).stdout;
    expect(await crl()).not.toContain(serial);
    const r = await kgw('regency', 'revoke', A, '--out', out, '--config', configPath);
    expect(r.code).toBe(0);
    expect(await crl()).toContain(`Serial Number: ${serial}`);
    await broker.restart();
    expect((await asVillage(old)).client).toBeUndefined();
    const b = await asVillage(certOf(bundle(B)));
    expect(b.client).toBeDefined();
    b.client?.end(true);

    // A new box: a new certificate works, the stolen one stays refused.
    const again = await kgw('regency', 'provision', A, '--cert', '--out', out, '--config', configPath);
    expect(again.code).toBe(0);
    await broker.restart();
    const fresh = await asVillage(certOf(bundle(A)));
    expect(fresh.client).toBeDefined();
    fresh.client?.end(true);
    expect((await asVillage(old)).client).toBeUndefined();
  });

  it('kampung-gw provision installs the certificate next to the config and names it in the mqtt block', async () => {
    const root = join(tmp.path, 'box');
    const etc = join(root, 'etc', 'kampung-gateway');
    mkdirSync(etc, { recursive: true });
    copyFileSync(join(REPO_ROOT, 'config', 'default.yaml'), join(etc, 'config.yaml'));
    const r = await kgw(
      'provision',
      bundle(B),
      '--root',
      root,
      '--config',
      '/etc/kampung-gateway/config.yaml',
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const cfg = parse(readFileSync(join(etc, 'config.yaml'), 'utf8'));
    expect(cfg.mqtt).toMatchObject({ cert_file: 'mqtt-client.pem', key_file: 'mqtt-client.key' });
    expect(statSync(join(etc, 'mqtt-client.key')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(etc, 'mqtt-client.pem'), 'utf8')).toBe(
      readFileSync(join(bundle(B), 'client.pem'), 'utf8'),
    );
  });
});
