import { execFile } from 'node:child_process';
import { createHash, createPublicKey, verify } from 'node:crypto';
import { createReadStream, existsSync, lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { GwError } from '../core/errors.js';

const execFileP = promisify(execFile);

export interface VerifiedBundle {
  /** The unpacked, checked tree (kampung-gateway-<version>-linux-<arch>/ inside the work dir). */
  dir: string;
  version: string;
  arch: string;
  commit: string;
  /** The bundle's SHA256SUMS text: two trees with the same one are the same build. */
  sums: string;
}

const VERSION_RE = /^[0-9A-Za-z._+-]{1,64}$/;
const SUMS_LINE = /^([0-9a-f]{64}) {2}(.+)$/;

function refuse(message: string): never {
  throw new GwError('GW_ERR_BUNDLE_REFUSED', message);
}

/** sha256 of a file, streamed (a bundle is ~50 MiB, a Pi has little memory). */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** `uname -m` in the RELEASE file's words. */
export function hostArch(): string {
  return process.arch === 'arm64' ? 'arm64' : process.arch;
}

/** key=value lines of the RELEASE file. */
function releaseFields(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of text.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0 && !m.has(line.slice(0, i))) m.set(line.slice(0, i), line.slice(i + 1));
  }
  return m;
}

function walk(dir: string, out: string[], root = dir): void {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = lstatSync(p);
    if (st.isDirectory()) walk(p, out, root);
    else if (st.isFile()) out.push(relative(root, p));
    else refuse('the bundle contains links or special files');
  }
}

export interface VerifyOptions {
  bundle: string;
  /** An empty folder on the releases' file system to unpack into. */
  workDir: string;
  /** The pinned ed25519 public key (PEM): the installed release's keys/release.pub. */
  pubkey: string;
  /** The sha256 the bundle file must have (the regency's command names it). */
  sha256?: string;
  /** Refuse a bundle built for another architecture (default: this machine's). */
  arch?: string;
}

/**
 * The checks of `install.sh --bundle`, in TypeScript and with no shell: the file's sha256 when
 * one is expected; unpacked with tar (arguments, never a command line) into workDir; exactly
 * one top folder; no links or special files; SHA256SUMS lists exactly the files present and
 * every one matches; SHA256SUMS.sig is an ed25519 signature over it by the pinned key; RELEASE
 * names a sane version and this architecture. Throws GW_ERR_BUNDLE_REFUSED; nothing outside
 * workDir is touched.
 */
export async function verifyBundle(o: VerifyOptions): Promise<VerifiedBundle> {
  if (!existsSync(o.bundle) || !lstatSync(o.bundle).isFile()) refuse(`bundle ${o.bundle} not found`);
  if (o.sha256 !== undefined) {
    const got = await sha256File(o.bundle);
    if (got !== o.sha256.toLowerCase()) refuse(`bundle sha256 is ${got}, expected ${o.sha256}`);
  }
  let key: ReturnType<typeof createPublicKey>;
  try {
    key = createPublicKey(readFileSync(o.pubkey));
  } catch (err) {
    throw new GwError('GW_ERR_BUNDLE_REFUSED', `pinned key ${o.pubkey} unreadable`, { cause: err });
  }
  try {
    await execFileP('tar', ['-xzf', o.bundle, '-C', o.workDir, '--no-same-owner', '--no-same-permissions']);
  } catch (err) {
    throw new GwError('GW_ERR_BUNDLE_REFUSED', 'the bundle is damaged (tar failed)', { cause: err });
  }
  const tops = readdirSync(o.workDir);
  const top = tops[0];
  if (tops.length !== 1 || top === undefined || !top.startsWith('kampung-gateway-'))
    refuse('not a kampung-gateway release bundle');
  const dir = join(o.workDir, top);
  if (!lstatSync(dir).isDirectory()) refuse('not a kampung-gateway release bundle');
  const files: string[] = [];
  walk(dir, files);
  if (!files.includes('SHA256SUMS') || !files.includes('RELEASE'))
    refuse('not a kampung-gateway release bundle (no SHA256SUMS or RELEASE)');
  const sums = readFileSync(join(dir, 'SHA256SUMS'), 'utf8');
  const listed = new Map<string, string>();
  for (const line of sums.split('\n')) {
    if (line === '') continue;
    const m = SUMS_LINE.exec(line);
    if (!m?.[1] || !m[2] || listed.has(m[2])) refuse('SHA256SUMS is malformed');
    listed.set(m[2], m[1]);
  }
  const present = files.filter((f) => f !== 'SHA256SUMS' && f !== 'SHA256SUMS.sig');
  if (present.length !== listed.size || present.some((f) => !listed.has(f)))
    refuse('files differ from SHA256SUMS (added or missing files)');
  for (const f of present)
    if ((await sha256File(join(dir, f))) !== listed.get(f)) refuse(`SHA256SUMS check failed (${f})`);
  if (!files.includes('SHA256SUMS.sig')) refuse('the bundle is unsigned but a key is pinned');
  const sig = Buffer.from(readFileSync(join(dir, 'SHA256SUMS.sig'), 'utf8').trim(), 'base64');
  let good = false;
  try {
    good = verify(null, Buffer.from(sums), key, sig);
  } catch {
    good = false;
  }
  if (!good) refuse(`signature does not match the pinned key ${o.pubkey}`);
  const fields = releaseFields(readFileSync(join(dir, 'RELEASE'), 'utf8'));
  const version = fields.get('version') ?? '';
  if (!VERSION_RE.test(version) || version.startsWith('.')) refuse(`bad version '${version}' in RELEASE`);
  const arch = fields.get('arch') ?? '';
  if (arch !== (o.arch ?? hostArch()))
    refuse(`the bundle is for linux-${arch}, this box is ${o.arch ?? hostArch()}`);
  if (!files.includes('dist/main.js') || !files.includes('node/bin/node'))
    refuse('the bundle has no dist/main.js or node/bin/node');
  return { dir, version, arch, commit: fields.get('commit') ?? 'unknown', sums };
}
