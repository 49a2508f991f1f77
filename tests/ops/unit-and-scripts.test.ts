import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/tmp.js';

// Ops files: the systemd unit (systemd/kampung-gateway.service) and the installer
// (scripts/install.sh), checked with the real tools: systemd-analyze, shellcheck, bash.

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const UNIT_NAME = 'kampung-gateway.service';
const UNIT_SRC = join(REPO, 'systemd', UNIT_NAME);
/** The installed release's own node: the bundled one, or a link to the system's (source install). */
const UNIT_NODE = '/opt/kampung-gateway/current/node/bin/node';
/** V8 flags the daemon runs with (young generation capped: the SPEC's peak-RSS budget). */
const NODE_FLAGS = '--max-semi-space-size=4';
const EXEC_START = `${NODE_FLAGS} /opt/kampung-gateway/current/dist/main.js run --config /etc/kampung-gateway/config.yaml`;

const tmp = tempDir('kgw-ops-');
afterAll(() => tmp.cleanup());

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { encoding: 'utf8', env, timeout: 15_000 });
}

function hasCommand(cmd: string): boolean {
  return run('sh', ['-c', 'command -v "$1"', 'sh', cmd]).status === 0;
}

/** `Key=value` lines of a unit file (comments and section headers dropped); repeated keys keep all values. */
function unitSettings(text: string): Map<string, string[]> {
  const settings = new Map<string, string[]>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';') || line.startsWith('[')) continue;
    const eq = line.indexOf('=');
    const key = line.slice(0, eq);
    settings.set(key, [...(settings.get(key) ?? []), line.slice(eq + 1)]);
  }
  return settings;
}

/**
 * Runs `systemd-analyze verify` on a copy of the unit (plus drop-ins, which verify reads from
 * `<unit>.d/` beside the file) and returns the lines that mention it. verify exits 0 even on
 * an unknown key, so "no line about our unit" is the pass condition, not the exit code.
 */
function verifyUnit(unitText: string, dropins: Record<string, string> = {}): string[] {
  const dir = join(tmp.path, `verify-${Math.random().toString(36).slice(2)}`);
  mkdirSync(join(dir, `${UNIT_NAME}.d`), { recursive: true });
  writeFileSync(join(dir, UNIT_NAME), unitText);
  for (const [name, text] of Object.entries(dropins)) writeFileSync(join(dir, `${UNIT_NAME}.d`, name), text);
  const r = run('systemd-analyze', ['verify', join(dir, UNIT_NAME)]);
  const out = `${r.stdout}\n${r.stderr}`;
  const ours = out.split('\n').filter((l) => l.includes('kampung-gateway'));
  if (r.status !== 0 && ours.length === 0) ours.push(`systemd-analyze exited ${r.status}: ${out.trim()}`);
  return ours;
}

describe('systemd unit', () => {
  const text = readFileSync(UNIT_SRC, 'utf8');
  const s = unitSettings(text);
  const one = (key: string) => s.get(key)?.join(' ');

  it('declares the contract the daemon relies on', () => {
    expect(one('Type')).toBe('notify');
    expect(one('NotifyAccess')).toBe('main');
    expect(one('ExecStart')).toBe(`${UNIT_NODE} ${EXEC_START}`);
    expect(one('WorkingDirectory')).toBe('/opt/kampung-gateway/current');
    expect(one('WatchdogSec')).toBe('30');
    expect(one('Restart')).toBe('on-failure');
    expect(one('TimeoutStopSec')).toBe('15');
    expect(one('User')).toBe('kampung-gw');
    expect(one('Group')).toBe('kampung-gw');
    expect(one('StateDirectory')).toBe('kampung-gateway');
    expect(one('StateDirectoryMode')).toBe('0750');
    // systemd re-applies this mode at every start; it must equal what install.sh sets.
    expect(one('ConfigurationDirectoryMode')).toBe('0750');
    expect(s.has('StartLimitIntervalSec')).toBe(true);
    // `npm start` runs the daemon as systemd does.
    const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as {
      scripts: { start: string };
    };
    expect(pkg.scripts.start).toBe(`node ${NODE_FLAGS} dist/main.js run --config config/default.yaml`);
    // `kampung-gw run` started by hand (the shebang) runs with the same flags.
    const shebang = readFileSync(join(REPO, 'src', 'main.ts'), 'utf8').split('\n')[0];
    expect(shebang).toBe(`#!/usr/bin/env -S node ${NODE_FLAGS}`);
    // ... and so does /usr/local/bin/kampung-gw on an installed box (the release's own node).
    const wrapper = readFileSync(join(REPO, 'scripts', 'kampung-gw.sh'), 'utf8');
    expect(wrapper).toContain(`exec "$app/node/bin/node" ${NODE_FLAGS} "$app/dist/main.js" "$@"`);
    expect(s.has('StartLimitBurst')).toBe(true);
    expect(one('WantedBy')).toBe('multi-user.target');
  });

  it('is sandboxed, with CAP_NET_RAW as its only capability and no W^X ban (V8 JIT)', () => {
    expect(one('NoNewPrivileges')).toBe('yes');
    expect(one('ProtectSystem')).toBe('strict');
    expect(one('AmbientCapabilities')).toBe('CAP_NET_RAW');
    expect(one('CapabilityBoundingSet')).toBe('CAP_NET_RAW');
    expect(one('RestrictAddressFamilies')).toBe('AF_UNIX AF_INET AF_INET6 AF_NETLINK');
    expect(one('MemoryMax')).toMatch(/^\d+[MG]$/);
    expect(s.has('MemoryDenyWriteExecute')).toBe(false);
    for (const key of [
      'PrivateTmp',
      'ProtectHome',
      'ProtectKernelTunables',
      'ProtectKernelModules',
      'ProtectControlGroups',
      'LockPersonality',
      'RestrictRealtime',
      'RestrictSUIDSGID',
    ]) {
      expect(one(key), key).toBe('yes');
    }
    expect(one('SystemCallArchitectures')).toBe('native');
  });

  it.skipIf(!hasCommand('systemd-analyze'))('passes systemd-analyze verify without a warning', () => {
    // verify checks that ExecStart's binary exists, and this machine has no installed release:
    // a drop-in points it at the node running this test, with the unit's own arguments.
    const dropins = {
      'test-node.conf': `[Service]\nExecStart=\nExecStart=${process.execPath} ${EXEC_START}\n`,
    };
    expect(verifyUnit(text, dropins)).toEqual([]);
  });

  it.skipIf(!hasCommand('systemd-analyze'))('systemd-analyze verify does catch a broken unit', () => {
    // Guards the check above against passing vacuously.
    expect(verifyUnit(text.replace('WatchdogSec=30', 'WatchdogSecs=30')).join('\n')).toMatch(/WatchdogSecs/);
  });

  if (!hasCommand('systemd-analyze')) {
    it('systemd-analyze verify: SKIPPED, systemd-analyze is not installed (apt-get install systemd)', () => {});
  }
});

describe('shell scripts', () => {
  const scripts = readdirSync(join(REPO, 'scripts'))
    .filter((f) => f.endsWith('.sh'))
    .map((f) => join(REPO, 'scripts', f));

  it('includes the installer', () => {
    expect(scripts).toContain(join(REPO, 'scripts', 'install.sh'));
  });

  it('are shellcheck-clean (CI installs shellcheck; missing shellcheck is a failure)', () => {
    expect(hasCommand('shellcheck'), 'shellcheck is not installed: apt-get install -y shellcheck').toBe(true);
    const r = run('shellcheck', ['--format=gcc', ...scripts]);
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});

describe('scripts/install.sh into a staged root', () => {
  // A throw-away checkout: the real files under test plus a stand-in dist/ (the repo's own
  // build may be absent or mid-rebuild), and a stub npm that records its calls instead of
  // touching the registry (its `run build` writes a stand-in dist/main.js, its `ci` a
  // node_modules/). bash, cp, sha256sum, ln and the real node do the rest.
  const checkout = join(tmp.path, 'checkout');
  const bin = join(tmp.path, 'bin');
  const npmLog = join(tmp.path, 'npm.log');
  mkdirSync(join(checkout, 'scripts'), { recursive: true });
  mkdirSync(join(checkout, 'dist'), { recursive: true });
  for (const f of ['package.json', 'package-lock.json']) copyFileSync(join(REPO, f), join(checkout, f));
  for (const d of ['config', 'systemd']) cpSync(join(REPO, d), join(checkout, d), { recursive: true });
  for (const f of ['install.sh', 'kampung-gw.sh']) {
    copyFileSync(join(REPO, 'scripts', f), join(checkout, 'scripts', f));
    chmodSync(join(checkout, 'scripts', f), 0o755);
  }
  writeFileSync(join(checkout, 'dist', 'main.js'), '#!/usr/bin/env node\nconsole.log("stand-in");\n');
  mkdirSync(bin);
  writeFileSync(
    join(bin, 'npm'),
    [
      '#!/bin/sh',
      'printf "%s|%s\\n" "$PWD" "$*" >> "$NPM_LOG"',
      'if [ "$1" = ci ]; then mkdir -p node_modules/stub && echo "module.exports = 1;" > node_modules/stub/index.js; fi',
      'if [ "$1 $2" = "run build" ]; then mkdir -p dist && printf "#!/usr/bin/env node\\n" > dist/main.js; fi',
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
  // `node` on PATH is the node running this test, as on a box where node is /usr/bin/node.
  symlinkSync(process.execPath, join(bin, 'node'));
  const script = join(checkout, 'scripts', 'install.sh');
  const example = readFileSync(join(REPO, 'config', 'example.yaml'), 'utf8');
  const app = 'opt/kampung-gateway';
  const rel = `${app}/releases/0.1.0-source`;
  const version = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string })
    .version;

  function install(root: string, args: string[] = [], env: NodeJS.ProcessEnv = {}): SpawnSyncReturns<string> {
    writeFileSync(npmLog, '');
    const { KAMPUNG_GW_NODE: _ignored, ...base } = process.env;
    return run('bash', [script, ...args], {
      ...base,
      PATH: `${bin}:${process.env.PATH ?? ''}`,
      NPM_LOG: npmLog,
      INSTALL_ROOT: root,
      ...env,
    });
  }

  function npmCalls(root: string): string[] {
    return readFileSync(npmLog, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => l.replace(checkout, '<checkout>').replace(root, '<root>'));
  }

  /** Every path under root with its type, mode, and content hash or link target; no times. */
  function snapshot(root: string): Record<string, string> {
    const out: Record<string, string> = {};
    const walk = (dir: string) => {
      for (const name of readdirSync(dir).sort()) {
        const p = join(dir, name);
        const st = lstatSync(p);
        const mode = (st.mode & 0o7777).toString(8).padStart(4, '0');
        const rel = `/${relative(root, p)}`;
        if (st.isSymbolicLink()) out[rel] = `link -> ${readlinkSync(p)}`;
        else if (st.isDirectory()) {
          out[rel] = `dir ${mode}`;
          walk(p);
        } else out[rel] = `file ${mode} ${createHash('sha256').update(readFileSync(p)).digest('hex')}`;
      }
    };
    walk(root);
    return out;
  }

  const mode = (p: string) => (lstatSync(p).mode & 0o7777).toString(8).padStart(4, '0');

  it('installs the layout with the right modes, and a second run changes nothing', () => {
    const root = join(tmp.path, 'root-a');
    const first = install(root);
    expect(first.stderr).toBe('');
    expect(first.status).toBe(0);
    expect(first.stdout).toContain('Langkah berikut / Next steps');
    expect(npmCalls(root)).toEqual([
      '<checkout>|ci --no-audit --no-fund',
      '<checkout>|run build',
      `<root>/${rel}.new|ci --omit=dev --no-audit --no-fund`,
    ]);

    const at = (p: string) => join(root, p);
    expect(rel).toBe(`${app}/releases/${version}-source`);
    expect(mode(at(app))).toBe('0755');
    expect(readlinkSync(at(`${app}/current`))).toBe(`releases/${version}-source`);
    expect(existsSync(at(`${app}/previous`))).toBe(false);
    expect(mode(at(`${rel}/dist/main.js`))).toBe('0755');
    expect(mode(at(`${rel}/scripts/kampung-gw.sh`))).toBe('0755');
    expect(mode(at(`${rel}/package.json`))).toBe('0644');
    expect(existsSync(at(`${rel}/node_modules/stub/index.js`))).toBe(true);
    expect(existsSync(at(`${rel}/config/example.yaml`))).toBe(true);
    // The unit's node is the release's node/bin/node: here a link to the node install.sh found.
    expect(readlinkSync(at(`${rel}/node/bin/node`))).toBe(join(bin, 'node'));
    expect(mode(at('etc/kampung-gateway'))).toBe('0750');
    expect(mode(at('etc/kampung-gateway/devices'))).toBe('0750');
    expect(mode(at('etc/kampung-gateway/config.yaml'))).toBe('0640');
    expect(readFileSync(at('etc/kampung-gateway/config.yaml'), 'utf8')).toBe(example);
    expect(mode(at('var/lib/kampung-gateway'))).toBe('0750');
    expect(readlinkSync(at('usr/local/bin/kampung-gw'))).toBe(
      '/opt/kampung-gateway/current/scripts/kampung-gw.sh',
    );
    expect(mode(at('etc/systemd/system/kampung-gateway.service'))).toBe('0644');
    expect(readFileSync(at('etc/systemd/system/kampung-gateway.service'), 'utf8')).toBe(
      readFileSync(UNIT_SRC, 'utf8'),
    );
    expect(readlinkSync(at('etc/systemd/system/multi-user.target.wants/kampung-gateway.service'))).toBe(
      '/etc/systemd/system/kampung-gateway.service',
    );
    expect(existsSync(at('etc/systemd/system/kampung-gateway.service.d'))).toBe(false);

    // The technician edits the config (and tightens its mode); a re-install must keep both.
    const custom = 'gateway:\n  id: "3510170099"\n  name: "Desa Uji"\n';
    writeFileSync(at('etc/kampung-gateway/config.yaml'), custom);
    chmodSync(at('etc/kampung-gateway/config.yaml'), 0o600);
    const before = snapshot(root);

    const second = install(root);
    expect(second.stderr).toBe('');
    expect(second.status).toBe(0);
    expect(second.stdout).toContain('config.yaml exists, left untouched');
    // Same lockfile and node: node_modules is reused, nothing is downloaded again.
    expect(npmCalls(root)).toEqual(['<checkout>|ci --no-audit --no-fund', '<checkout>|run build']);
    expect(snapshot(root)).toEqual(before);
    expect(readFileSync(at('etc/kampung-gateway/config.yaml'), 'utf8')).toBe(custom);
    expect(mode(at('etc/kampung-gateway/config.yaml'))).toBe('0600');
    expect(existsSync(at(`${rel}.new`))).toBe(false);
    expect(existsSync(at(`${rel}.old`))).toBe(false);
  }, 20_000);

  it('--no-build skips the checkout build; --root equals INSTALL_ROOT', () => {
    const root = join(tmp.path, 'root-b');
    const r = install('', ['--no-build', '--root', root]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(npmCalls(root)).toEqual([`<root>/${rel}.new|ci --omit=dev --no-audit --no-fund`]);
    expect(mode(join(root, 'etc/kampung-gateway/config.yaml'))).toBe('0640');
  }, 20_000);

  it('runs a node outside /usr/bin through the release link, and moves an old flat install away', () => {
    const root = join(tmp.path, 'root-c');
    // What installers before releases/ left: the tree right in /opt/kampung-gateway and, for a
    // node outside /usr/bin, an ExecStart drop-in naming that tree.
    mkdirSync(join(root, app, 'dist'), { recursive: true });
    writeFileSync(join(root, app, 'dist', 'main.js'), 'old\n');
    const unitDir = join(root, 'etc/systemd/system');
    mkdirSync(join(unitDir, 'kampung-gateway.service.d'), { recursive: true });
    writeFileSync(
      join(unitDir, 'kampung-gateway.service.d/10-node-path.conf'),
      '# Written by scripts/install.sh: node is /usr/local/bin/node, not /usr/bin/node.\n[Service]\nExecStart=\nExecStart=/usr/local/bin/node /opt/kampung-gateway/dist/main.js run\n',
    );
    const wrapper = join(tmp.path, 'other-node');
    writeFileSync(wrapper, `#!/bin/sh\nexec '${process.execPath}' "$@"\n`, { mode: 0o755 });
    writeFileSync(
      join(checkout, 'dist', 'main.js'),
      'console.log("stand-in", process.argv.slice(2).join(" "));\n',
    );
    const r = install(root, ['--no-build'], { KAMPUNG_GW_NODE: wrapper });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(existsSync(join(unitDir, 'kampung-gateway.service.d'))).toBe(false);
    expect(existsSync(join(root, app, 'dist'))).toBe(false);
    expect(existsSync(join(root, `${app}.flat`))).toBe(false);
    expect(readlinkSync(join(root, rel, 'node/bin/node'))).toBe(wrapper);
    // The command-line wrapper finds its release through the links and runs that node on it
    // (dist/main.js here is a stand-in that prints its arguments).
    const cli = run(join(root, app, 'current/scripts/kampung-gw.sh'), ['--version']);
    expect(cli.stderr).toBe('');
    expect(cli.stdout).toBe('stand-in --version\n');
  }, 20_000);

  it('keeps the running and the previous release, and removes older ones', () => {
    const root = join(tmp.path, 'root-f');
    const pkgPath = join(checkout, 'package.json');
    const original = readFileSync(pkgPath, 'utf8');
    const releases = () => readdirSync(join(root, app, 'releases')).sort();
    try {
      for (const v of ['0.8.0', '0.9.0', '0.10.0']) {
        writeFileSync(pkgPath, original.replace(`"version": "${version}"`, `"version": "${v}"`));
        const r = install(root, ['--no-build']);
        expect(r.status, r.stderr).toBe(0);
        expect(readlinkSync(join(root, app, 'current'))).toBe(`releases/${v}-source`);
      }
      expect(releases()).toEqual(['0.10.0-source', '0.9.0-source']);
      expect(readlinkSync(join(root, app, 'previous'))).toBe('releases/0.9.0-source');
      // The same version again replaces it in place; previous stays the one before.
      expect(install(root, ['--no-build']).status).toBe(0);
      expect(releases()).toEqual(['0.10.0-source', '0.9.0-source']);
      expect(readlinkSync(join(root, app, 'previous'))).toBe('releases/0.9.0-source');
    } finally {
      writeFileSync(pkgPath, original);
    }
  }, 30_000);

  it('refuses a Node.js older than 20 and installs nothing', () => {
    const root = join(tmp.path, 'root-d');
    const oldNode = join(tmp.path, 'node18');
    writeFileSync(oldNode, '#!/bin/sh\necho 18.19.1\n', { mode: 0o755 });
    const r = install(root, [], { KAMPUNG_GW_NODE: oldNode });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('needs >= 20');
    expect(r.stderr).toContain('deb.nodesource.com');
    expect(existsSync(join(root, 'opt'))).toBe(false);
  });

  it('rejects an unknown option with exit code 2', () => {
    const r = install(join(tmp.path, 'root-e'), ['--frobnicate']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('unknown option: --frobnicate');
  });
});
