// Native addons of the release bundle (better-sqlite3, unix-dgram), compiled with node-gyp
// for one architecture against the bundled Node's own headers (--nodedir: node-gyp never
// downloads anything), cross-compiled for arm64 with Debian's g++-aarch64-linux-gnu.
// prebuild-install is never run: it would try to download a binary, and a release must be
// built from source on this machine. Used by scripts/release.mjs.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The addons, each with the one file the package loads at run time (via `bindings`). */
export const ADDONS = [
  { name: 'better-sqlite3', binary: 'better_sqlite3.node' },
  { name: 'unix-dgram', binary: 'unix_dgram.node' },
];

/** Compiler per target; x64 is this machine's own. */
const TOOLCHAINS = {
  x64: { CC: 'gcc', CXX: 'g++', LINK: 'g++', AR: 'ar', STRIP: 'strip' },
  arm64: {
    CC: 'aarch64-linux-gnu-gcc',
    CXX: 'aarch64-linux-gnu-g++',
    LINK: 'aarch64-linux-gnu-g++',
    AR: 'aarch64-linux-gnu-ar',
    STRIP: 'aarch64-linux-gnu-strip',
  },
};

function nodeGypPath() {
  // node-gyp ships inside npm; npm's own folder is found from the npm on PATH.
  const npm = execFileSync('sh', ['-c', 'readlink -f "$(command -v npm)"'], { encoding: 'utf8' }).trim();
  for (const dir of [join(dirname(npm), '..'), join(dirname(npm), '..', 'lib', 'node_modules', 'npm')]) {
    const p = join(dir, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
    if (existsSync(p)) return p;
  }
  throw new Error(`node-gyp not found beside ${npm}`);
}

function compilerId(tc) {
  try {
    return execFileSync(tc.CXX, ['--version'], { encoding: 'utf8' }).split('\n')[0];
  } catch {
    const pkg = tc.CXX === 'g++' ? 'g++' : 'g++-aarch64-linux-gnu';
    throw new Error(`${tc.CXX} not found: apt-get install -y ${pkg}`);
  }
}

/**
 * Compiles every addon inside the staged node_modules for `arch`, then removes everything of
 * the addon that is only needed to build it (sources, SQLite amalgamation, object files,
 * Makefiles with this machine's paths): only build/Release/<binary> stays.
 * Results are cached by (arch, runtime, addon version + lockfile integrity, compiler).
 */
export function buildAddons({ modules, arch, nodeDir, nodeVersion, lock, cacheDir, useCache, log }) {
  const tc = TOOLCHAINS[arch];
  if (!tc) throw new Error(`unknown arch ${arch}`);
  const compiler = compilerId(tc);
  let gyp;
  for (const addon of ADDONS) {
    const dir = join(modules, addon.name);
    const entry = lock.packages[`node_modules/${addon.name}`];
    const key = createHash('sha256')
      .update([arch, nodeVersion, addon.name, entry.version, entry.integrity, compiler].join('\n'))
      .digest('hex')
      .slice(0, 16);
    const cached = join(
      cacheDir,
      `${addon.name}-${entry.version}-${arch}-node${nodeVersion}-${key}`,
      addon.binary,
    );
    const out = join(dir, 'build', 'Release', addon.binary);
    if (useCache && existsSync(cached)) {
      log(`${addon.name} ${entry.version} (${arch}): cached build`);
    } else {
      gyp ??= nodeGypPath();
      const t0 = Date.now();
      // -ffile-prefix-map: paths of this machine (__FILE__ in assertions, the staging dir)
      // must not end up in the binary, or two checkouts would build different bytes.
      const map = `-ffile-prefix-map=${dir}=. -ffile-prefix-map=${nodeDir}=/node`;
      try {
        execFileSync(
          process.execPath,
          [
            gyp,
            'rebuild',
            '--release',
            `--arch=${arch}`,
            `--nodedir=${nodeDir}`,
            '--jobs=2',
            '--loglevel=error',
          ],
          {
            cwd: dir,
            stdio: ['ignore', 'pipe', 'pipe'],
            maxBuffer: 64 * 1024 * 1024,
            env: { ...process.env, ...tc, CFLAGS: map, CXXFLAGS: map, npm_config_nodedir: nodeDir },
          },
        );
      } catch (err) {
        // The compiler's warnings are noise on success; on failure they are the diagnosis.
        process.stderr.write(`${err.stdout ?? ''}${err.stderr ?? ''}`);
        throw new Error(`${addon.name}: node-gyp rebuild for ${arch} failed`);
      }
      execFileSync(tc.STRIP, ['--strip-unneeded', out]);
      mkdirSync(dirname(cached), { recursive: true });
      copyFileSync(out, cached);
      log(`${addon.name} ${entry.version} (${arch}): compiled in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    }
    pruneAddon(dir, addon.binary);
    mkdirSync(join(dir, 'build', 'Release'), { recursive: true });
    copyFileSync(cached, out);
  }
}

/** Keeps the package's JS and metadata; drops build inputs and outputs except the binary. */
function pruneAddon(dir, binary) {
  rmSync(join(dir, 'build'), { recursive: true, force: true });
  for (const name of readdirSync(dir)) {
    if (['deps', 'src', 'test', 'binding.gyp'].includes(name))
      rmSync(join(dir, name), { recursive: true, force: true });
  }
  // A sanity check that the package still declares how it finds the binary.
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  if (!pkg.name) throw new Error(`${dir}/package.json unreadable (${binary})`);
}
