import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/daemon.js';
import { tempDir } from '../helpers/tmp.js';

// The upgrade's systemd units: the path unit that watches for a request or an interrupted
// upgrade, and the root oneshot that runs `kampung-gw upgrade --resume`.
const tmp = tempDir('kgw-units-');
afterAll(() => tmp.cleanup());
const hasAnalyze = spawnSync('systemd-analyze', ['--version']).status === 0;
const unit = (n: string) => readFileSync(join(REPO_ROOT, 'systemd', n), 'utf8');

function verify(files: Record<string, string>, dropin?: string): string[] {
  const dir = join(tmp.path, `v-${Math.random().toString(36).slice(2)}`);
  mkdirSync(dir);
  for (const [n, t] of Object.entries(files)) writeFileSync(join(dir, n), t);
  if (dropin) {
    mkdirSync(join(dir, 'kampung-gateway-upgrade.service.d'));
    writeFileSync(join(dir, 'kampung-gateway-upgrade.service.d', 'test.conf'), dropin);
  }
  const r = spawnSync('systemd-analyze', ['verify', ...Object.keys(files).map((n) => join(dir, n))], {
    encoding: 'utf8',
  });
  return `${r.stdout}\n${r.stderr}`.split('\n').filter((l) => l.includes('kampung-gateway'));
}

describe('upgrade units', () => {
  it('watch the request and the journal, and resume as root with the running release', () => {
    const path = unit('kampung-gateway-upgrade.path');
    expect(path).toContain('PathExists=/var/lib/kampung-gateway/upgrades/request.json');
    expect(path).toContain('PathExists=/opt/kampung-gateway/upgrade/journal.json');
    const svc = unit('kampung-gateway-upgrade.service');
    expect(svc).toMatch(
      /^ExecStart=\S+\/current\/node\/bin\/node \S+\/current\/dist\/main\.js upgrade --resume/m,
    );
    expect(svc).not.toMatch(/^User=/m);
  });

  it.skipIf(!hasAnalyze)('pass systemd-analyze verify, which does catch a broken one', () => {
    const files = {
      'kampung-gateway-upgrade.service': unit('kampung-gateway-upgrade.service'),
      'kampung-gateway-upgrade.path': unit('kampung-gateway-upgrade.path'),
    };
    // No installed release here: ExecStart points at the node running this test.
    const dropin = `[Service]\nExecStart=\nExecStart=${process.execPath} ${join(REPO_ROOT, 'dist', 'main.js')} upgrade --resume\n`;
    expect(verify(files, dropin)).toEqual([]);
    const broken = {
      ...files,
      'kampung-gateway-upgrade.path': files['kampung-gateway-upgrade.path'].replace(
        /^PathExists=/gm,
        'PathExist=',
      ),
    };
    expect(verify(broken, dropin).join('\n')).toMatch(/PathExist/);
  });

  it('install.sh installs both and enables the path unit', () => {
    const root = join(tmp.path, 'root');
    // A stand-in npm: the release's `npm ci --omit=dev` is not what this test is about.
    const bin = join(tmp.path, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'npm'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    const r = spawnSync('bash', [join(REPO_ROOT, 'scripts', 'install.sh'), '--no-build'], {
      encoding: 'utf8',
      env: {
        ...process.env,
        PATH: `${bin}:${process.env.PATH ?? ''}`,
        INSTALL_ROOT: root,
        KAMPUNG_GW_NODE: process.execPath,
      },
      timeout: 20_000,
    });
    expect(r.status, r.stderr).toBe(0);
    const units = join(root, 'etc', 'systemd', 'system');
    for (const n of ['kampung-gateway-upgrade.service', 'kampung-gateway-upgrade.path'])
      expect(readFileSync(join(units, n), 'utf8')).toBe(unit(n));
    expect(readlinkSync(join(units, 'multi-user.target.wants', 'kampung-gateway-upgrade.path'))).toBe(
      '/etc/systemd/system/kampung-gateway-upgrade.path',
    );
  });
});
