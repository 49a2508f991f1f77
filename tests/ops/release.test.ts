import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, TestDaemon } from '../helpers/daemon.js';
import { tempDir } from '../helpers/tmp.js';

// The release bundles of `npm run release`, built once by scripts/test-release.sh
// (`npm run test:release`, which sets KGW_RELEASE_DIR and KGW_RELEASE_KEY). Not part of
// `npm test`: vitest.config.ts leaves this file out unless KGW_RELEASE_TESTS is set.

const BUNDLES = process.env.KGW_RELEASE_DIR ?? '';
const KEY = process.env.KGW_RELEASE_KEY ?? '';
const VERSION = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string })
  .version;
const NODE_LINE = readFileSync(join(REPO_ROOT, '.ci', 'node-runtimes'), 'utf8')
  .split('\n')
  .filter((l) => l.startsWith('24.'))
  .at(-1);
const bundle = (arch: string) => join(BUNDLES, `kampung-gateway-${VERSION}-linux-${arch}.tar.gz`);
const QEMU = ['qemu-aarch64-static', '-L', '/usr/aarch64-linux-gnu'];
/** What check-config says about config/example.yaml: all valid, only the secret files are absent. */
const EXAMPLE_ERRORS = [
  'devices[0].token_file: file /etc/kampung-gateway/devices/adm-1.token is missing or unreadable',
  'mqtt.password_file: file /etc/kampung-gateway/mqtt.secret is missing or unreadable',
  'mqtt.ca_file: file /etc/kampung-gateway/ca.pem is missing or unreadable',
  'cache.upstreams[0].auth.bearer_file: file /etc/kampung-gateway/layanan.token is missing or unreadable',
];

const tmp = tempDir('kgw-release-');
afterAll(() => tmp.cleanup());

function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}) {
  return spawnSync(cmd, args, { encoding: 'utf8', timeout: 600_000, maxBuffer: 64 << 20, ...opts });
}
const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** A PATH with only what an offline box has: coreutils, tar, gzip, sed, grep, find, cmp. No node, npm, cc. */
function offlinePath(): string {
  const bin = join(tmp.path, 'offline-bin');
  if (existsSync(bin)) return bin;
  mkdirSync(bin);
  const tools = `bash sh env cat cp mv rm ln mkdir rmdir chmod readlink dirname basename mktemp find sed grep
    head tail cut sort wc uname id install tar gzip sha256sum cmp date`.split(/\s+/);
  for (const t of tools) {
    const which = run('sh', ['-c', 'command -v "$1"', 'sh', t]).stdout.trim();
    if (!which) throw new Error(`${t} not found`);
    symlinkSync(which, join(bin, t));
  }
  return bin;
}

function install(root: string, file: string, extra: string[] = []): SpawnSyncReturns<string> {
  const script = join(tmp.path, 'install.sh');
  writeFileSync(script, readFileSync(join(REPO_ROOT, 'scripts', 'install.sh')));
  return run(join(offlinePath(), 'bash'), [script, '--bundle', file, '--root', root, ...extra], {
    env: { PATH: offlinePath(), TMPDIR: tmp.path, HOME: tmp.path },
  });
}

/** Every path under dir with its type and content hash or link target. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = lstatSync(p);
      const rel = relative(dir, p);
      if (st.isSymbolicLink()) out[rel] = `-> ${readlinkSync(p)}`;
      else if (st.isDirectory()) {
        out[rel] = `dir ${st.mode & 0o7777}`;
        walk(p);
      } else out[rel] = `${st.mode & 0o7777} ${sha256(p)}`;
    }
  };
  walk(dir);
  return out;
}

/** Unpacks a bundle, lets `edit` change it, packs it again (not reproducibly: a test copy). */
function repack(arch: string, name: string, edit: (dir: string) => void): string {
  const dir = join(tmp.path, `repack-${name}`);
  mkdirSync(dir);
  expect(run('tar', ['xzf', bundle(arch), '-C', dir]).status).toBe(0);
  const top = join(dir, `kampung-gateway-${VERSION}-linux-${arch}`);
  edit(top);
  const out = join(tmp.path, `${name}.tar.gz`);
  // gzip -1: five repacks of ~170 MB must not take minutes.
  expect(run('tar', ['-I', 'gzip -1', '-cf', out, '-C', dir, relative(dir, top)]).status).toBe(0);
  rmSync(dir, { recursive: true, force: true });
  return out;
}

describe.runIf(BUNDLES)('release bundles', () => {
  const pinned = join(tmp.path, 'pinned.pub');
  beforeAll(() => {
    const text = readFileSync(join(BUNDLES, `kampung-gateway-${VERSION}-linux-x64.tar.gz.sha256`), 'utf8');
    expect(text).toContain(sha256(bundle('x64')));
    // The public half of the key the bundles were signed with: what a box pins.
    const pub = run('node', [
      '-e',
      'process.stdout.write(require("crypto").createPublicKey(require("fs").readFileSync(process.argv[1])).export({type:"spki",format:"pem"}))',
      KEY,
    ]);
    writeFileSync(pinned, pub.stdout);
  });

  it('the same commit gives the same bytes, native addons compiled again included', () => {
    const again = join(tmp.path, 'again');
    const t0 = Date.now();
    const r = run(
      'node',
      [join(REPO_ROOT, 'scripts/release.mjs'), '--arch', 'x64', '--no-cache', '--out', again],
      {
        env: { ...process.env, KGW_RELEASE_KEY: KEY },
      },
    );
    expect(r.status, r.stderr).toBe(0);
    console.log(`x64 bundle rebuilt (addons compiled) in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    expect(sha256(join(again, `kampung-gateway-${VERSION}-linux-x64.tar.gz`))).toBe(sha256(bundle('x64')));
  }, 900_000);

  const root = join(tmp.path, 'root');
  const app = join(root, 'opt/kampung-gateway');

  it('installs offline into a staged root: no npm, no compiler, no node on PATH', () => {
    const path = offlinePath();
    for (const t of ['node', 'npm', 'gcc', 'cc', 'g++', 'make', 'python3'])
      expect(existsSync(join(path, t))).toBe(false);
    const t0 = Date.now();
    const r = install(root, bundle('x64'), ['--pubkey', pinned]);
    const ms = Date.now() - t0;
    expect(r.status, r.stderr).toBe(0);
    console.log(`install.sh --bundle: ${ms} ms`);
    expect(r.stdout).toContain('signature OK');
    expect(readlinkSync(join(app, 'current'))).toBe(`releases/${VERSION}`);
    const rel = join(app, 'releases', VERSION);
    expect(readFileSync(join(rel, 'keys/release.pub'), 'utf8')).toBe(readFileSync(pinned, 'utf8'));
    expect(readFileSync(join(root, 'etc/kampung-gateway/config.yaml'), 'utf8')).toBe(
      readFileSync(join(REPO_ROOT, 'config/example.yaml'), 'utf8'),
    );
    expect(readlinkSync(join(root, 'usr/local/bin/kampung-gw'))).toBe(
      '/opt/kampung-gateway/current/scripts/kampung-gw.sh',
    );
    // Only the runtime of the node package: the binary and its licence, no headers or docs.
    expect(readdirSync(join(rel, 'node')).sort()).toEqual(['LICENSE', 'bin']);
    expect(existsSync(join(rel, 'node_modules/better-sqlite3/deps'))).toBe(false);
  }, 120_000);

  it('the installed release runs with its own node: --version, check-config, a healthy daemon', async () => {
    const current = join(app, 'current');
    const node = join(current, 'node/bin/node');
    const env = { PATH: offlinePath() };
    const v = run(join(current, 'scripts/kampung-gw.sh'), ['--version'], { env });
    expect(v.stdout).toMatch(
      new RegExp(`^kampung-gw ${VERSION} \\(commit [0-9a-f]{12}(-dirty)?, node v${NODE_LINE}, linux-x64\\)`),
    );
    const cc = run(
      node,
      [
        join(current, 'dist/main.js'),
        'check-config',
        '--config',
        join(root, 'etc/kampung-gateway/config.yaml'),
      ],
      { env },
    );
    expect(cc.status).toBe(1);
    for (const e of EXAMPLE_ERRORS) expect(cc.stdout + cc.stderr).toContain(e);
    const d = await TestDaemon.start({ command: node, mainJs: join(current, 'dist/main.js'), env });
    try {
      const res = await fetch(`${d.url}/healthz`);
      expect(res.status).toBe(200);
      expect(existsSync(join(d.dataDir, 'gateway.db'))).toBe(true);
    } finally {
      await d.stop();
    }
  }, 60_000);

  it('refuses a damaged, an altered, an unsigned and a wrongly signed bundle before changing anything', () => {
    const before = snapshot(root);
    const refused = (file: string, msg: RegExp) => {
      const r = install(root, file);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(msg);
      expect(snapshot(root)).toEqual(before);
    };
    // One byte of the archive flipped.
    const bytes = readFileSync(bundle('x64'));
    const i = Math.floor(bytes.length / 2);
    bytes[i] = (bytes[i] ?? 0) ^ 0x01;
    const damaged = join(tmp.path, 'damaged.tar.gz');
    writeFileSync(damaged, bytes);
    refused(damaged, /damaged|SHA256SUMS/);
    // One byte of the daemon's code changed inside a well-formed archive.
    refused(
      repack('x64', 'altered', (dir) => {
        const f = join(dir, 'dist/main.js');
        const b = readFileSync(f);
        b[b.length - 2] = (b[b.length - 2] ?? 0) ^ 0x01;
        writeFileSync(f, b);
      }),
      /SHA256SUMS check failed/,
    );
    // A file added that SHA256SUMS does not list.
    refused(
      repack('x64', 'added', (dir) => writeFileSync(join(dir, 'dist/extra.js'), '1\n')),
      /files differ/,
    );
    // The installed release pinned the key: an unsigned bundle is refused.
    refused(
      repack('x64', 'unsigned', (dir) => run('rm', [join(dir, 'SHA256SUMS.sig')])),
      /unsigned/,
    );
    // Consistent in itself (sums, key, signature) but signed with another key.
    refused(
      repack('x64', 'other-key', (dir) => {
        const { privateKey, publicKey } = generateKeyPairSync('ed25519');
        writeFileSync(join(dir, 'keys/release.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
        const lines = readFileSync(join(dir, 'SHA256SUMS'), 'utf8').replace(
          /^[0-9a-f]{64} {2}keys\/release\.pub$/m,
          `${sha256(join(dir, 'keys/release.pub'))}  keys/release.pub`,
        );
        writeFileSync(join(dir, 'SHA256SUMS'), lines);
        writeFileSync(
          join(dir, 'SHA256SUMS.sig'),
          `${sign(null, Buffer.from(lines), privateKey).toString('base64')}\n`,
        );
      }),
      /signature does not match the pinned key/,
    );
  }, 600_000);

  describe('arm64 under qemu-aarch64', () => {
    const dir = join(tmp.path, 'arm64');
    const top = join(dir, `kampung-gateway-${VERSION}-linux-arm64`);
    const node = [...QEMU, join(top, 'node/bin/node')];
    const arm = (args: string[]) => run(node[0] as string, [...node.slice(1), ...args]);
    beforeAll(() => {
      mkdirSync(dir);
      expect(run('tar', ['xzf', bundle('arm64'), '-C', dir]).status).toBe(0);
      expect(run('sha256sum', ['--check', '--quiet', '--strict', 'SHA256SUMS'], { cwd: top }).status).toBe(0);
    });

    it('--version and check-config on the example run on the bundled node', () => {
      const t0 = Date.now();
      const v = arm([join(top, 'dist/main.js'), '--version']);
      console.log(`arm64 --version under qemu: ${Date.now() - t0} ms`);
      expect(v.stdout).toMatch(new RegExp(`^kampung-gw ${VERSION} .*node v${NODE_LINE}, linux-arm64\\)`));
      const cc = arm([
        join(top, 'dist/main.js'),
        'check-config',
        '--config',
        join(top, 'config/example.yaml'),
      ]);
      expect(cc.status).toBe(1);
      for (const e of EXAMPLE_ERRORS) expect(cc.stdout + cc.stderr).toContain(e);
    }, 120_000);

    it('the daemon answers /healthz 200, and its SQLite file is written and read back by the arm64 addon', async () => {
      const t0 = Date.now();
      const d = await TestDaemon.start({
        command: node[0] as string,
        nodeArgs: [...node.slice(1), '--max-semi-space-size=4'],
        mainJs: join(top, 'dist/main.js'),
        timeoutMs: 120_000,
      });
      console.log(`arm64 daemon healthy under qemu after ${Date.now() - t0} ms`);
      try {
        expect((await fetch(`${d.url}/healthz`)).status).toBe(200);
      } finally {
        await d.stop();
      }
      // The daemon's migrations wrote the schema version; a row is written and read back.
      const r = arm([
        '-e',
        `const D = require(${JSON.stringify(join(top, 'node_modules/better-sqlite3'))});
         const db = new D(${JSON.stringify(join(d.dataDir, 'gateway.db'))});
         db.exec('CREATE TABLE release_probe (v TEXT)');
         db.prepare('INSERT INTO release_probe VALUES (?)').run('arm64');
         const v = db.prepare('SELECT v FROM release_probe').get().v;
         console.log(JSON.stringify({ arch: process.arch, user_version: db.pragma('user_version', { simple: true }), v }));
         require(${JSON.stringify(join(top, 'node_modules/unix-dgram'))});`,
      ]);
      expect(r.stderr).toBe('');
      const out = JSON.parse(r.stdout) as { arch: string; user_version: number; v: string };
      expect(out.arch).toBe('arm64');
      expect(out.user_version).toBeGreaterThan(0);
      expect(out.v).toBe('arm64');
    }, 180_000);
  });
});
