import { existsSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import type { IssuedCert } from './client-ca.js';
import { PUBLIC_MODE, SECRET_MODE, secureDir, writeFileAtomic } from './secure-write.js';

export interface BundleInputs {
  code: string;
  name: string;
  url: string;
  username: string;
  password: string;
  topicPrefix: string;
  /** The CA the gateway trusts (with TLS). */
  caPem?: string;
  cert?: IssuedCert;
}

export function bundleDir(out: string, code: string): string {
  return join(out, 'villages', code);
}

/** Where a new bundle is written before the store knows its secret (hidden from `villages/*`). */
export function stagedBundleDir(out: string, code: string): string {
  return join(out, 'villages', `.${code}.staged`);
}

function oldBundleDir(out: string, code: string): string {
  return join(out, 'villages', `.${code}.old`);
}

/** Writes a village's bundle into `dir` (emptied first): what `kampung-gw provision` installs. */
export function writeBundle(dir: string, b: BundleInputs): void {
  rmSync(dir, { recursive: true, force: true });
  secureDir(dir);
  const block = {
    url: b.url,
    username: b.username,
    // Relative: next to the gateway's config; `kampung-gw provision` installs them there.
    password_file: 'mqtt.secret',
    ...(b.caPem ? { ca_file: 'mqtt-ca.pem' } : {}),
    ...(b.cert ? { cert_file: 'mqtt-client.pem', key_file: 'mqtt-client.key' } : {}),
    topic_prefix: b.topicPrefix,
  };
  if (b.cert) {
    writeFileAtomic(join(dir, 'client.pem'), b.cert.cert, PUBLIC_MODE);
    writeFileAtomic(join(dir, 'client.key'), b.cert.key, SECRET_MODE);
  }
  writeFileAtomic(
    join(dir, 'mqtt.yaml'),
    `# ${b.code} ${b.name} — install on the box: kampung-gw provision <this folder>\n${stringify(block)}`,
    PUBLIC_MODE,
  );
  writeFileAtomic(join(dir, 'mqtt.secret'), `${b.password}\n`, SECRET_MODE);
  if (b.caPem) writeFileAtomic(join(dir, 'ca.pem'), b.caPem, PUBLIC_MODE);
}

/**
 * The staged bundle takes the village's place: two renames, so a kill in between leaves the
 * staged folder for recoverBundles to finish with, never a bundle of two halves.
 */
export function promoteBundle(out: string, code: string): string {
  const final = bundleDir(out, code);
  const old = oldBundleDir(out, code);
  rmSync(old, { recursive: true, force: true });
  if (existsSync(final)) renameSync(final, old);
  renameSync(stagedBundleDir(out, code), final);
  rmSync(old, { recursive: true, force: true });
  return final;
}

/** The identity a bundle folder holds, or undefined when it is incomplete. */
export function bundleIdentity(dir: string): { username: string; secret: string } | undefined {
  try {
    const block = parse(readFileSync(join(dir, 'mqtt.yaml'), 'utf8')) as { username?: unknown };
    const secret = readFileSync(join(dir, 'mqtt.secret'), 'utf8').replace(/\r?\n$/, '');
    return typeof block.username === 'string' ? { username: block.username, secret } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * After a kill mid-provisioning: a staged bundle whose secret the store holds (the commit
 * happened) is promoted; one it does not (killed before the commit) is dropped, leaving the
 * village's earlier bundle, whose identity is still valid.
 */
export function recoverBundles(
  out: string,
  holds: (username: string, secret: string) => boolean,
): { promoted: string[]; dropped: string[] } {
  const dir = join(out, 'villages');
  const r = { promoted: [] as string[], dropped: [] as string[] };
  if (!existsSync(dir)) return r;
  const names = readdirSync(dir);
  for (const name of names) {
    const code = /^\.(.+)\.staged$/.exec(name)?.[1];
    if (code === undefined) continue;
    const id = bundleIdentity(join(dir, name));
    if (id && holds(id.username, id.secret)) {
      promoteBundle(out, code);
      r.promoted.push(code);
    } else {
      rmSync(join(dir, name), { recursive: true, force: true });
      r.dropped.push(code);
    }
  }
  for (const name of names) {
    const code = /^\.(.+)\.old$/.exec(name)?.[1];
    if (code === undefined || !existsSync(join(dir, name))) continue;
    // Killed between the two renames of a staged bundle since dropped: the old one goes back.
    if (existsSync(bundleDir(out, code))) rmSync(join(dir, name), { recursive: true, force: true });
    else renameSync(join(dir, name), bundleDir(out, code));
  }
  return r;
}
