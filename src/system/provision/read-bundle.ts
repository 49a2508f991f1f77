import { createPrivateKey, X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { GwError } from '../../core/errors.js';

/** A village bundle as `regency provision` writes it (`villages/<code>/`). */
export interface Bundle {
  dir: string;
  code: string;
  /** The gateway's `mqtt` keys the bundle sets (paths not yet resolved). */
  mqtt: { url: string; username: string; topic_prefix?: string };
  secret: string;
  /** PEM text of the CA the broker's certificate chains to, when the bundle has one. */
  ca?: string;
  /** The village's client certificate and its key (PEM), when the regency issued one. */
  client?: { cert: string; key: string };
}

/** `gw-<code>`, or `gw-<code>.<n>` after a rotation (docs/regency.md "Rotation"). */
const USERNAME = /^gw-([0-9]{10})(?:\.[1-9][0-9]{0,5})?$/;

/** Reads and checks a bundle folder; every problem is reported at once (GW_ERR_VALIDATION). */
export function readBundle(dir: string): Bundle {
  const problems: string[] = [];
  const read = (name: string): string | undefined => {
    try {
      return readFileSync(join(dir, name), 'utf8');
    } catch {
      problems.push(`${name} is missing or unreadable`);
      return undefined;
    }
  };
  const yamlText = read('mqtt.yaml');
  const secretText = read('mqtt.secret');
  let block: Record<string, unknown> = {};
  if (yamlText !== undefined) {
    try {
      const parsed: unknown = parse(yamlText);
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed))
        block = parsed as Record<string, unknown>;
      else problems.push('mqtt.yaml is not a mapping');
    } catch {
      problems.push('mqtt.yaml is not valid YAML');
    }
  }
  const url = typeof block.url === 'string' ? block.url : '';
  const username = typeof block.username === 'string' ? block.username : '';
  if (yamlText !== undefined && !/^mqtts?:\/\//.test(url))
    problems.push('mqtt.yaml: url must be mqtt:// or mqtts://');
  const code = USERNAME.exec(username)?.[1];
  if (yamlText !== undefined && !code)
    problems.push('mqtt.yaml: username must be gw-<10-digit village code>[.<n>]');
  const secret = secretText?.replace(/\r?\n$/, '') ?? '';
  if (secretText !== undefined && (secret.length < 16 || /\s/.test(secret)))
    problems.push('mqtt.secret must be one line of at least 16 characters');
  let ca: string | undefined;
  if (existsSync(join(dir, 'ca.pem'))) {
    ca = read('ca.pem');
    try {
      if (ca !== undefined && !new X509Certificate(ca).ca) problems.push('ca.pem is not a CA certificate');
    } catch {
      problems.push('ca.pem is not a PEM certificate');
    }
  } else if (block.ca_file !== undefined) problems.push('mqtt.yaml names a ca_file but ca.pem is missing');
  const client = readClient(dir, username, read, problems);
  if (problems.length > 0 || !code)
    throw new GwError('GW_ERR_VALIDATION', `invalid bundle ${dir}: ${problems.join('; ')}`, {
      details: { problems },
    });
  return {
    dir,
    code,
    mqtt: {
      url,
      username,
      ...(typeof block.topic_prefix === 'string' ? { topic_prefix: block.topic_prefix } : {}),
    },
    secret,
    ...(ca === undefined ? {} : { ca }),
    ...(client ? { client } : {}),
  };
}

/** client.pem and client.key: both or neither; the certificate names the bundle's user and matches the key. */
function readClient(
  dir: string,
  username: string,
  read: (name: string) => string | undefined,
  problems: string[],
): Bundle['client'] {
  const hasCert = existsSync(join(dir, 'client.pem'));
  if (hasCert !== existsSync(join(dir, 'client.key'))) {
    problems.push('client.pem and client.key come together');
    return undefined;
  }
  if (!hasCert) return undefined;
  const cert = read('client.pem');
  const key = read('client.key');
  if (cert === undefined || key === undefined) return undefined;
  try {
    const x = new X509Certificate(cert);
    if (!x.subject.split('\n').includes(`CN=${username}`))
      problems.push(`client.pem is not issued to ${username}`);
    if (!x.checkPrivateKey(createPrivateKey(key))) problems.push('client.key does not match client.pem');
  } catch {
    problems.push('client.pem or client.key is not PEM');
  }
  return { cert, key };
}
