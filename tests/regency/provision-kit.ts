import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { stringify } from 'yaml';
import { MAIN_JS } from '../helpers/daemon.js';
import { type MosquittoOptions, TestBroker } from '../helpers/mosquitto.js';
import { freePort } from '../helpers/net.js';
import type { TestPki } from '../helpers/tls.js';
import type { TestStore } from './helpers.js';

const run = promisify(execFile);

/** The topic prefix of the provisioning tests. */
export const PREFIX = 'kampung/v1';

/** `kampung-gw <argv>` from dist/ to completion (at most 60 s), with its exit code and output. */
export async function kgw(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [MAIN_JS, ...argv], { timeout: 60_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/**
 * Connects once (MQTT 5, no reconnect), or resolves with why it could not: the CONNACK
 * refusal's code (`'5'`, `'135'`), a TLS error's code, or `'closed'`.
 */
export function tryConnect(
  url: string,
  o: IClientOptions,
): Promise<{ client?: MqttClient; refused?: string }> {
  return new Promise((resolve) => {
    const client = mqtt.connect(url, { protocolVersion: 5, reconnectPeriod: 0, connectTimeout: 5000, ...o });
    client.once('connect', () => resolve({ client }));
    const fail = (why: string) => {
      client.end(true);
      resolve({ refused: why });
    };
    client.once('error', (err) => fail(String((err as { code?: unknown }).code ?? err.message)));
    client.once('close', () => fail('closed'));
  });
}

/** The secret in a bundle folder written by `regency provision` (villages/<code>, collector). */
export function secretOf(dir: string): string {
  return readFileSync(join(dir, 'mqtt.secret'), 'utf8').trim();
}

/** The regency's collector on the plain listener, with the identity provision wrote under `out`. */
export async function connectCollector(url: string, out: string): Promise<MqttClient> {
  const r = await tryConnect(url, {
    username: 'regency-collector',
    password: secretOf(join(out, 'collector')),
    clientId: `collector-${Math.random()}`,
  });
  if (!r.client) throw new Error(`collector refused: ${r.refused}`);
  return r.client;
}

/**
 * A Mosquitto (not started) that takes the password file and the ACL `regency provision`
 * writes under `out/mosquitto`, anonymous clients refused, its ports chosen now so that the
 * regency's config can name them before the broker starts.
 */
export async function provisionedBroker(
  out: string,
  o: Pick<MosquittoOptions, 'tls' | 'extraConfig'> = {},
): Promise<TestBroker> {
  const broker = new TestBroker({
    allowAnonymous: false,
    passwordFile: join(out, 'mosquitto', 'passwd'),
    aclFile: join(out, 'mosquitto', 'acl'),
    ...o,
  });
  broker.port = await freePort();
  if (o.tls) broker.tlsPort = await freePort();
  return broker;
}

/**
 * mosquitto.conf lines of a listener on `port` that takes only client certificates issued by
 * the CA `regency provision --cert` keeps (identity as username), checked against its CRL.
 */
export function certListener(port: number, out: string, pki: TestPki): string[] {
  return [
    `listener ${port} 127.0.0.1`,
    `cafile ${join(out, 'mosquitto', 'client-ca.pem')}`,
    `certfile ${pki.certFile}`,
    `keyfile ${pki.keyFile}`,
    'tls_version tlsv1.2',
    'require_certificate true',
    'use_identity_as_username true',
    `crlfile ${join(out, 'mosquitto', 'crl.pem')}`,
  ];
}

/** Writes the regency config `regency provision` reads: store, collector identity, provision keys. */
export function writeProvisionConfig(
  path: string,
  o: { store: TestStore; mqttUrl: string; provision: Record<string, unknown>; villagesFile?: string },
): void {
  writeFileSync(
    path,
    stringify({
      regency: { name: 'Kabupaten Uji', ...(o.villagesFile ? { villages_file: o.villagesFile } : {}) },
      data_dir: o.store.dataDir,
      mqtt: { url: o.mqttUrl, username: 'regency-collector', topic_prefix: PREFIX },
      provision: o.provision,
    }),
  );
}
