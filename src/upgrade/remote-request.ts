import { existsSync, lstatSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { ReplyAddress } from '../modules/operations.js';
import { fsyncDir, writeDurable } from './durable-fs.js';

/**
 * The hand-over between the daemon and the upgrader. The daemon runs unprivileged and cannot
 * touch /opt or restart itself, so the regency's `upgrade` command only writes a request into
 * <data_dir>/upgrades/ beside a bundle already staged there; kampung-gateway-upgrade.path sees
 * it and starts kampung-gateway-upgrade.service (root), which runs `kampung-gw upgrade
 * --resume` and leaves its result in <data_dir>/upgrades/result.json for the daemon to answer.
 */
export const UPGRADES_DIR = 'upgrades';
export const REQUEST_FILE = 'request.json';
export const RESULT_FILE = 'result.json';
/** A staged bundle's file name: a plain name in upgrades/, never a path. */
export const BUNDLE_NAME_RE = /^kampung-gateway-[0-9A-Za-z._+-]{1,64}-linux-(x64|arm64)\.tar\.gz$/;
export const SHA256_RE = /^[0-9a-f]{64}$/;
const TOPIC_RE = /^[^#+]{1,256}$/;
const ID_RE = /^[A-Za-z0-9._:-]{1,128}$/;
const B64_RE = /^[A-Za-z0-9+/=]{1,1400}$/;

export interface UpgradeRequest {
  id: string;
  bundle: string;
  sha256: string;
  requestedAt: string;
  /** Where the regency's command wants its replies: the outcome is answered there after the restart. */
  reply?: ReplyAddress;
}

/** A reply address as kept in request.json and result.json, checked (the file is input too). */
export function replyAddress(v: unknown): ReplyAddress | undefined {
  if (v === null || typeof v !== 'object') return undefined;
  const { id, topic, correlation } = v as Record<string, unknown>;
  if (typeof id !== 'string' || !ID_RE.test(id)) return undefined;
  if (typeof topic !== 'string' || !TOPIC_RE.test(topic) || topic.startsWith('$') || topic.includes('\0'))
    return undefined;
  if (correlation !== undefined && (typeof correlation !== 'string' || !B64_RE.test(correlation)))
    return undefined;
  return { id, topic, ...(correlation ? { correlation } : {}) };
}

export function upgradesDir(dataDir: string): string {
  return join(dataDir, UPGRADES_DIR);
}

/** The staged bundle's full path, or undefined when the name is not a plain bundle name. */
export function stagedBundlePath(dataDir: string, name: string): string | undefined {
  if (!BUNDLE_NAME_RE.test(name)) return undefined;
  const p = join(upgradesDir(dataDir), name);
  try {
    return lstatSync(p).isFile() ? p : undefined;
  } catch {
    return undefined;
  }
}

export function writeRequest(dataDir: string, r: UpgradeRequest): void {
  mkdirSync(upgradesDir(dataDir), { recursive: true, mode: 0o750 });
  writeDurable(join(upgradesDir(dataDir), REQUEST_FILE), `${JSON.stringify(r)}\n`, 0o640);
}

/** The pending request (checked again: the file is the daemon's to write), removed as it is taken. */
export function takeRequest(dataDir: string): UpgradeRequest | { invalid: string } | undefined {
  const p = join(upgradesDir(dataDir), REQUEST_FILE);
  if (!existsSync(p)) return undefined;
  let raw: Partial<UpgradeRequest> = {};
  try {
    raw = JSON.parse(readFileSync(p, 'utf8')) as Partial<UpgradeRequest>;
  } catch {
    raw = {};
  }
  rmSync(p, { force: true });
  fsyncDir(upgradesDir(dataDir));
  if (typeof raw.bundle !== 'string' || !BUNDLE_NAME_RE.test(raw.bundle))
    return { invalid: 'bad bundle name' };
  if (typeof raw.sha256 !== 'string' || !SHA256_RE.test(raw.sha256)) return { invalid: 'bad sha256' };
  const id = typeof raw.id === 'string' ? raw.id.slice(0, 128) : '';
  const reply = replyAddress(raw.reply);
  return {
    id,
    bundle: raw.bundle,
    sha256: raw.sha256,
    requestedAt: String(raw.requestedAt ?? ''),
    ...(reply ? { reply } : {}),
  };
}

export function writeResult(dataDir: string, result: Record<string, unknown>): void {
  mkdirSync(upgradesDir(dataDir), { recursive: true, mode: 0o750 });
  writeDurable(join(upgradesDir(dataDir), RESULT_FILE), `${JSON.stringify(result)}\n`, 0o644);
}

export function readResult(dataDir: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(readFileSync(join(upgradesDir(dataDir), RESULT_FILE), 'utf8')) as Record<
      string,
      unknown
    >;
  } catch {
    return undefined;
  }
}
