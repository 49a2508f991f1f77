import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  readFileSync,
  renameSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { isMap, parseDocument } from 'yaml';
import { GwError } from '../../core/errors.js';
import type { Bundle } from './read-bundle.js';

/** Installed next to the config; the config names them relative to its own folder. */
export const SECRET_NAME = 'mqtt.secret';
export const CA_NAME = 'mqtt-ca.pem';
export const CLIENT_CERT_NAME = 'mqtt-client.pem';
export const CLIENT_KEY_NAME = 'mqtt-client.key';

export interface InstallOptions {
  /** The gateway config to edit (already inside the staged root when there is one). */
  configFile: string;
  /** The service group's id (root:kampung-gw 0640), or undefined: owner-only files, no chown. */
  serviceGid?: number;
}

export interface InstallResult {
  code: string;
  secretFile: string;
  caFile?: string;
  /** gateway.id before, when the bundle changed it. */
  previousId?: string;
  backup?: string;
}

/**
 * Installs the secret (and CA) next to the config and writes the bundle's keys into the
 * config's `mqtt` block; every other line, comment included, stays as it was (YAML Document
 * API). gateway.id becomes the bundle's village: the broker lets the box speak for no other.
 */
export function installBundle(bundle: Bundle, o: InstallOptions): InstallResult {
  let text: string;
  try {
    text = readFileSync(o.configFile, 'utf8');
  } catch (err) {
    throw new GwError('GW_ERR_CONFIG_NOT_FOUND', `cannot read ${o.configFile}`, { cause: err });
  }
  const doc = parseDocument(text);
  if (doc.errors.length > 0 || !isMap(doc.contents))
    throw new GwError('GW_ERR_CONFIG_PARSE', `${o.configFile} is not a YAML mapping`);

  const dir = dirname(o.configFile);
  const secretFile = join(dir, SECRET_NAME);
  place(secretFile, `${bundle.secret}\n`, o.serviceGid === undefined ? 0o600 : 0o640, o.serviceGid);
  const caFile = bundle.ca === undefined ? undefined : join(dir, CA_NAME);
  if (caFile && bundle.ca) place(caFile, bundle.ca, 0o644, o.serviceGid);

  const secretMode = o.serviceGid === undefined ? 0o600 : 0o640;
  if (bundle.client) {
    place(join(dir, CLIENT_CERT_NAME), bundle.client.cert, 0o644, o.serviceGid);
    place(join(dir, CLIENT_KEY_NAME), bundle.client.key, secretMode, o.serviceGid);
  }

  const previous = doc.getIn(['gateway', 'id']);
  doc.setIn(['gateway', 'id'], bundle.code);
  const keys: Record<string, string | undefined> = {
    url: bundle.mqtt.url,
    username: bundle.mqtt.username,
    password_file: SECRET_NAME,
    ca_file: caFile ? CA_NAME : undefined,
    topic_prefix: bundle.mqtt.topic_prefix,
    cert_file: bundle.client ? CLIENT_CERT_NAME : undefined,
    key_file: bundle.client ? CLIENT_KEY_NAME : undefined,
  };
  if (!isMap(doc.get('mqtt'))) doc.set('mqtt', doc.createNode({}));
  for (const [k, v] of Object.entries(keys)) {
    if (v !== undefined) doc.setIn(['mqtt', k], v);
    // The bundle is the box's whole identity: TLS files it does not carry are not kept.
    else if (k === 'ca_file' || k === 'cert_file' || k === 'key_file') doc.deleteIn(['mqtt', k]);
  }

  const backup = `${o.configFile}.before-provision`;
  if (!existsSync(backup)) copyFileSync(o.configFile, backup);
  const tmp = `${o.configFile}.tmp-${process.pid}`;
  writeFileSync(tmp, doc.toString());
  chmodSync(tmp, statSync(o.configFile).mode & 0o777);
  renameSync(tmp, o.configFile);
  return {
    code: bundle.code,
    secretFile,
    ...(caFile ? { caFile } : {}),
    ...(String(previous) !== bundle.code ? { previousId: String(previous) } : {}),
    backup,
  };
}

function place(file: string, content: string, mode: number, gid: number | undefined): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, '', { mode: 0o600 });
  if (gid !== undefined) chownSync(tmp, 0, gid);
  chmodSync(tmp, mode);
  writeFileSync(tmp, content);
  renameSync(tmp, file);
}
