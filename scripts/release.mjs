#!/usr/bin/env node
// `npm run release`: the offline release bundles, one per architecture, in release/:
//   kampung-gateway-<version>-linux-<arch>.tar.gz   (+ .sha256 beside it)
// Each holds the built dist/, the production node_modules with the native addons compiled for
// that arch, the Node 24 runtime (node/bin/node, from the npm registry's node-linux-<arch>
// package), config/ systemd/ scripts/ docs/, LICENSE, CHANGELOG.md, README.md, a RELEASE file,
// SHA256SUMS over every file and, when a signing key is given, SHA256SUMS.sig (ed25519) with
// the matching public key in keys/release.pub. scripts/install.sh --bundle installs it.
//
//   node scripts/release.mjs [--arch x64|arm64]... [--key FILE] [--out DIR] [--no-cache]
//
// --key FILE (or KGW_RELEASE_KEY=FILE): the ed25519 private key, PEM (`openssl genpkey
// -algorithm ed25519 -out release.key`). Without one the bundle is UNSIGNED (said loudly):
// a throw-away key would make every build differ, and a box cannot pin a key nobody keeps.
// Reproducible: the files come from the commit's tracked files, every time in the archive is
// the commit time (or SOURCE_DATE_EPOCH), entries are sorted, owners numeric 0, gzip -n.
// The built runtimes and addons are cached in .runtimes/ (KGW_RUNTIME_CACHE); --no-cache
// compiles the addons again.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  cpSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildAddons } from './release-addons.mjs';
import { readSigningKey, sumAndSign, writePublicKey } from './release-sign.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values: opts } = parseArgs({
  options: {
    arch: { type: 'string', multiple: true },
    key: { type: 'string' },
    out: { type: 'string' },
    'no-cache': { type: 'boolean', default: false },
  },
});
const arches = opts.arch?.length ? opts.arch : ['x64', 'arm64'];
for (const a of arches) if (a !== 'x64' && a !== 'arm64') throw new Error(`--arch ${a}: x64 or arm64`);
const out = resolve(opts.out ?? join(root, 'release'));
const stage = join(out, '.stage');
const cache = resolve(process.env.KGW_RUNTIME_CACHE ?? join(root, '.runtimes'));
const keyFile = opts.key ?? process.env.KGW_RELEASE_KEY ?? '';
const log = (msg) => process.stderr.write(`release: ${msg}\n`);
const git = (...args) => execFileSync('git', args, { cwd: root, encoding: 'utf8' }).trim();

const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const version = pkg.version;
const dirty = git('status', '--porcelain', '--untracked-files=no') !== '';
const commit = `${git('rev-parse', '--short=12', 'HEAD')}${dirty ? '-dirty' : ''}`;
const epoch = Number(process.env.SOURCE_DATE_EPOCH ?? git('log', '-1', '--format=%ct'));
const nodeVersion = releaseRuntime();
if (dirty) log(`WARNING: uncommitted changes: the bundle is built from the working tree (${commit})`);

/** The release runtime: the newest 24.x in .ci/node-runtimes. */
function releaseRuntime() {
  const lines = readFileSync(join(root, '.ci', 'node-runtimes'), 'utf8').split('\n');
  const v24 = lines.map((l) => l.trim()).filter((l) => /^24\.\d+\.\d+$/.test(l));
  const num = (v) => v.split('.').map(Number);
  v24.sort((a, b) => num(a)[1] - num(b)[1] || num(a)[2] - num(b)[2]);
  const v = v24.at(-1);
  if (!v) throw new Error('.ci/node-runtimes names no 24.x runtime');
  return v;
}

/** node-linux-<arch>@<version> from the npm registry, unpacked once into the cache. */
function fetchRuntime(arch) {
  const dir = join(cache, `node-v${nodeVersion}-linux-${arch}`);
  try {
    statSync(join(dir, 'bin', 'node'));
    return dir;
  } catch {
    // not cached yet
  }
  mkdirSync(cache, { recursive: true });
  const tmp = join(cache, `fetch-${process.pid}-${arch}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp);
  log(`npm pack node-linux-${arch}@${nodeVersion}`);
  execFileSync('npm', ['pack', '--silent', `node-linux-${arch}@${nodeVersion}`], {
    cwd: tmp,
    stdio: 'ignore',
  });
  execFileSync('tar', ['xzf', `node-linux-${arch}-${nodeVersion}.tgz`], { cwd: tmp });
  rmSync(dir, { recursive: true, force: true });
  cpSync(join(tmp, 'package'), dir, { recursive: true });
  rmSync(tmp, { recursive: true, force: true });
  return dir;
}

/** The commit's tracked files (as in the working tree), built with the checkout's dev tools. */
function buildSource() {
  const src = join(stage, 'src');
  rmSync(src, { recursive: true, force: true });
  for (const f of git('ls-files', '-z').split('\0').filter(Boolean)) {
    try {
      cpSync(join(root, f), join(src, f), { recursive: false });
    } catch (err) {
      if (err.code !== 'ENOENT') throw err; // deleted in the working tree
    }
  }
  symlinkSync(join(root, 'node_modules'), join(src, 'node_modules'));
  execFileSync('npm', ['run', '--silent', 'build'], {
    cwd: src,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, KGW_COMMIT: commit },
  });
  return src;
}

/** Production dependencies from the lockfile, without install scripts (addons come later). */
function productionModules() {
  const dir = join(stage, 'modules');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const f of ['package.json', 'package-lock.json']) cpSync(join(root, f), join(dir, f));
  execFileSync(
    'npm',
    [
      'ci',
      '--omit=dev',
      '--ignore-scripts',
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
      '--loglevel=error',
    ],
    { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] },
  );
  // Links to dev tools' command-line entries; nothing runs them in production.
  rmSync(join(dir, 'node_modules', '.bin'), { recursive: true, force: true });
  return join(dir, 'node_modules');
}

/** Directories 0755, files 0644, or 0755 when the source had any execute bit. */
function normaliseModes(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = lstatSync(p);
    if (st.isDirectory()) {
      chmodSync(p, 0o755);
      normaliseModes(p);
    } else chmodSync(p, st.mode & 0o111 ? 0o755 : 0o644);
  }
}

function assemble(arch, src, modules) {
  const name = `kampung-gateway-${version}-linux-${arch}`;
  const dir = join(stage, arch, name);
  rmSync(join(stage, arch), { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const d of ['dist', 'config', 'systemd', 'scripts', 'docs'])
    cpSync(join(src, d), join(dir, d), { recursive: true });
  for (const f of ['LICENSE', 'CHANGELOG.md', 'README.md', 'package.json', 'package-lock.json'])
    cpSync(join(src, f), join(dir, f));
  cpSync(modules, join(dir, 'node_modules'), { recursive: true });
  const runtime = fetchRuntime(arch);
  mkdirSync(join(dir, 'node', 'bin'), { recursive: true });
  cpSync(join(runtime, 'bin', 'node'), join(dir, 'node', 'bin', 'node'));
  cpSync(join(runtime, 'LICENSE'), join(dir, 'node', 'LICENSE'));
  buildAddons({
    modules: join(dir, 'node_modules'),
    arch,
    nodeDir: runtime,
    nodeVersion,
    lock: JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')),
    cacheDir: join(cache, 'addons'),
    useCache: !opts['no-cache'],
    log,
  });
  // Read by install.sh with plain shell: key=value, one a line.
  writeFileSync(
    join(dir, 'RELEASE'),
    `name=kampung-gateway\nversion=${version}\narch=${arch}\ncommit=${commit}\nnode=${nodeVersion}\nsource_date_epoch=${epoch}\n`,
  );
  const key = keyFile ? readSigningKey(keyFile) : undefined;
  if (key) writePublicKey(dir, key);
  normaliseModes(dir);
  sumAndSign(dir, key);
  return { name, dir };
}

function pack({ name, dir }) {
  const tarball = join(out, `${name}.tar.gz`);
  const tar = join(out, `${name}.tar`);
  rmSync(tarball, { force: true });
  execFileSync('tar', [
    '--create',
    `--file=${tar}`,
    `--directory=${dirname(dir)}`,
    '--sort=name',
    '--format=gnu',
    `--mtime=@${epoch}`,
    '--owner=0',
    '--group=0',
    '--numeric-owner',
    name,
  ]);
  execFileSync('gzip', ['-n', '-9', tar]);
  const digest = createHash('sha256').update(readFileSync(tarball)).digest('hex');
  writeFileSync(`${tarball}.sha256`, `${digest}  ${name}.tar.gz\n`);
  return { tarball, digest, bytes: statSync(tarball).size };
}

const t0 = Date.now();
log(`kampung-gateway ${version} (${commit}), node ${nodeVersion}, ${arches.join(' + ')}`);
if (!keyFile) {
  log('**************************************************************************');
  log('* NO SIGNING KEY (--key FILE or KGW_RELEASE_KEY): the bundle is UNSIGNED. *');
  log('* Boxes with a pinned key will refuse it. Not for distribution.          *');
  log('**************************************************************************');
}
mkdirSync(out, { recursive: true });
const src = buildSource();
const modules = productionModules();
for (const arch of arches) {
  const t = Date.now();
  const r = pack(assemble(arch, src, modules));
  const mib = (r.bytes / 1048576).toFixed(1);
  log(
    `${relative(root, r.tarball)}: ${mib} MiB, sha256 ${r.digest} (${((Date.now() - t) / 1000).toFixed(0)} s)`,
  );
  process.stdout.write(`${r.tarball}\n`);
}
rmSync(stage, { recursive: true, force: true });
log(`done in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
