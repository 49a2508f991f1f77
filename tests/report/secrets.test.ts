import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redactConfig, redactUrl } from '../../src/config/redact.js';
import { MAIN_JS, TestDaemon } from '../helpers/daemon.js';
import { TestBroker } from '../helpers/mosquitto.js';
import { waitFor } from '../helpers/net.js';
import { tempDir } from '../helpers/tmp.js';

const ROOT = 'kampung/v1/3510170012';
/** Every kind of secret a config can hold; none of these strings may ever leave the box. */
const SECRETS = {
  mqttUrl: 'mqtt-url-pw-Kq7vX2',
  upstreamUrl: 'upstream-url-pw-Zr4mN8',
  probeUrl: 'probe-url-pw-Wd3hJ5',
  queryToken: 'query-token-Hy6pL1',
  passwordFile: 'mqtt-file-pw-Tb9sC4',
  tokenFile: 'device-token-Fq2wR7xY9kLm3nPz5vBc8d',
  bearerFile: 'bearer-file-Ga5jE3',
  basicFile: 'basic-file-pw-Uc8nV6',
  headersFile: 'headers-file-key-Pm1tQ9',
  keyFile: 'PRIVATE-KEY-BODY-Xe4rS2',
};

describe('one redaction for get-config, the bundle and the log', () => {
  const broker = new TestBroker();
  const tmp = tempDir('kgw-secrets-');
  let daemon: TestDaemon;
  let noc: MqttClient;
  const file = (name: string, text: string) => {
    const p = join(tmp.path, name);
    writeFileSync(p, text, { mode: 0o600 });
    return p;
  };

  beforeAll(async () => {
    await broker.start();
    const dead = 'http://127.0.0.1:9';
    daemon = await TestDaemon.start({
      config: {
        uplink: {
          probes: [
            {
              name: 'regency',
              layer: 'regency',
              type: 'http',
              url: `http://probe:${SECRETS.probeUrl}@127.0.0.1:9/health?token=${SECRETS.queryToken}`,
            },
          ],
        },
        devices: [
          { id: 'adm-1', name: 'Kiosk', kind: 'kiosk', token_file: file('adm-1.token', SECRETS.tokenFile) },
        ],
        mqtt: {
          url: broker.url.replace('mqtt://', `mqtt://gw:${SECRETS.mqttUrl}@`),
          username: 'gw-3510170012',
          password_file: file('mqtt.secret', `${SECRETS.passwordFile}\n`),
          key_file: file('client.key', `-----BEGIN PRIVATE KEY-----\n${SECRETS.keyFile}\n`),
          connect_delay_max_s: 0,
        },
        cache: {
          max_mb: 8,
          upstreams: [
            {
              name: 'layanan',
              base_url: `http://svc:${SECRETS.upstreamUrl}@127.0.0.1:9/api`,
              auth: { bearer_file: file('bearer', SECRETS.bearerFile) },
            },
            { name: 'basic', base_url: dead, auth: { basic_file: file('basic', `u:${SECRETS.basicFile}`) } },
            {
              name: 'headers',
              base_url: dead,
              auth: { headers_file: file('headers', `X-Api-Key: ${SECRETS.headersFile}\n`) },
            },
          ],
        },
      },
    });
    await daemon.waitForLog((l) => l.msg === 'mqtt: connected');
    noc = mqtt.connect(broker.url, { protocolVersion: 5, clientId: 'noc-secrets' });
    await waitFor(() => noc.connected);
  });
  afterAll(async () => {
    await noc?.endAsync(true);
    await daemon?.dispose();
    await broker.dispose();
    tmp.cleanup();
  });

  const leaks = (text: string) => Object.values(SECRETS).filter((s) => text.includes(s));

  it('the daemon starts but warns about credentials in URLs, naming the keys (never the URL)', async () => {
    const warned = daemon.logs.filter((l) => l.msg === 'config: insecure setting (check-config refuses it)');
    expect(warned.map((l) => l.key).sort()).toEqual([
      'cache.upstreams[0].base_url',
      'mqtt.url',
      'uplink.probes[0].url',
    ]);
  });

  it('MQTT get-config: URL credentials stripped, *_file paths kept, no file contents', async () => {
    const replies: string[] = [];
    noc.on('message', (_t, p) => replies.push(p.toString()));
    await noc.subscribeAsync('noc/secrets', { qos: 1 });
    await noc.publishAsync(`${ROOT}/cmd/get-config`, JSON.stringify({ id: 'gc1' }), {
      qos: 1,
      properties: { responseTopic: 'noc/secrets' },
    });
    const text = await waitFor(() => replies.find((r) => r.includes('"gc1"')), 5000);
    expect(leaks(text)).toEqual([]);
    const cfg = (JSON.parse(text) as { result: Record<string, Record<string, unknown>> }).result;
    expect(cfg.mqtt?.url).toBe(broker.url.replace('mqtt://', 'mqtt://[redacted]@'));
    expect(cfg.mqtt?.password_file).toBe(join(tmp.path, 'mqtt.secret'));
    expect(cfg.mqtt?.key_file).toBe(join(tmp.path, 'client.key'));
    expect(cfg.mqtt?.username).toBe('gw-3510170012');
  });

  it('the diagnostic bundle and the log ring carry none of the secrets', async () => {
    const code = await daemon.setupCode();
    const setup = await fetch(`${daemon.url}/api/v1/setup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: daemon.url },
      body: JSON.stringify({ code, name: 'ana', password: 'kata-sandi-teknisi' }),
    });
    expect(setup.status).toBe(201);
    const cookie = setup.headers.get('set-cookie')!.split(';')[0]!;
    // Something to log: a kiosk read through the upstream whose URL holds credentials.
    await fetch(`${daemon.url}/svc/layanan/katalog`, {
      headers: { authorization: `Bearer ${SECRETS.tokenFile}` },
    });
    const bundle = await (await fetch(`${daemon.url}/api/v1/bundle`, { headers: { cookie } })).text();
    expect(leaks(bundle)).toEqual([]);
    const config = (JSON.parse(bundle) as { config: { cache: { upstreams: Array<{ base_url: string }> } } })
      .config;
    expect(config.cache.upstreams[0]?.base_url).toBe('http://[redacted]@127.0.0.1:9/api');
    const log = await (await fetch(`${daemon.url}/api/v1/log?level=trace`, { headers: { cookie } })).text();
    expect(log).toContain('mqtt: connecting');
    expect(leaks(log)).toEqual([]);
    expect(leaks(JSON.stringify(daemon.logs))).toEqual([]);
    expect(daemon.stderr).toBe('');
  });

  it('check-config refuses credentials in URLs, pointing to the *_file keys', () => {
    const r = spawnSync(process.execPath, [MAIN_JS, 'check-config', '--config', daemon.configPath], {
      encoding: 'utf8',
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/mqtt\.url.*mqtt\.username and mqtt\.password_file/);
    expect(r.stderr).toMatch(/cache\.upstreams\[0\]\.base_url.*cache\.upstreams\[0\]\.auth\.basic_file/);
    expect(r.stderr).toContain('uplink.probes[0].url');
    expect(leaks(r.stderr + r.stdout)).toEqual([]);
  });
});

describe('redactUrl / redactConfig', () => {
  it('strips userinfo (even with @ in the password) and secret query values, keeps the rest', () => {
    expect(redactUrl('mqtts://u:p@ss@broker:8883/x')).toBe('mqtts://[redacted]@broker:8883/x');
    expect(redactUrl('https://h/p?a=1&api_key=zz&token=yy#f')).toBe(
      'https://h/p?a=1&api_key=[redacted]&token=[redacted]#f',
    );
    expect(redactUrl('mqtt://broker:1883')).toBe('mqtt://broker:1883');
    expect(redactUrl('see http://a:b@h and http://c@h2')).toBe(
      'see http://[redacted]@h and http://[redacted]@h2',
    );
  });

  it('blanks values under secret-looking keys, keeps *_file paths, names and usernames', () => {
    const out = redactConfig({
      gateway: { id: '3510170012', name: 'Desa' },
      mqtt: {
        url: 'mqtts://gw:s3cret@broker:8883',
        username: 'gw-1',
        password: 'p',
        password_file: '/x',
        key_file: '/k',
      },
      token: 't',
      devices: [{ id: 'adm-1', token_file: '/etc/t' }],
    }) as Record<string, Record<string, unknown>>;
    expect(out).toEqual({
      gateway: { id: '3510170012', name: 'Desa' },
      mqtt: {
        url: 'mqtts://[redacted]@broker:8883',
        username: 'gw-1',
        password: '[redacted]',
        password_file: '/x',
        key_file: '/k',
      },
      token: '[redacted]',
      devices: [{ id: 'adm-1', token_file: '/etc/t' }],
    });
  });
});
