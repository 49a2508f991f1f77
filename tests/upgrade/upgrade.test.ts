import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it, type TestContext } from 'vitest';
import { tempDir } from '../helpers/tmp.js';
import { PRECIOUS, StagedBox } from './box.js';
import { buildBundle, testKey } from './fake-bundle.js';

// `kampung-gw upgrade` on a staged root, with stub releases signed by the release signing code:
// 1.0.0 (schema 1), 2.0.0 (schema 2, healthy) and 2.0.0-bad (migrates to schema 2, never healthy).
const key = testKey();
const other = testKey();
let bundles: { v1: string; v2: string; bad: string; otherKey: string; tampered: string; unsigned: string };
let bundleDir: { path: string; cleanup(): void };

beforeAll(() => {
  const d = tempDir('kgw-bundles-');
  bundleDir = d;
  const sub = (n: string) => {
    const p = join(d.path, n);
    mkdirSync(p);
    return p;
  };
  bundles = {
    v1: buildBundle(sub('v1'), { version: '1.0.0', schema: 1, healthy: true }, key.privateKey),
    v2: buildBundle(sub('v2'), { version: '2.0.0', schema: 2, healthy: true }, key.privateKey),
    bad: buildBundle(sub('bad'), { version: '2.0.0-bad', schema: 2, healthy: false }, key.privateKey),
    otherKey: buildBundle(sub('other'), { version: '2.0.0', schema: 2, healthy: true }, other.privateKey),
    tampered: buildBundle(
      sub('tampered'),
      { version: '2.0.0', schema: 2, healthy: true },
      key.privateKey,
      (dir) => writeFileSync(join(dir, 'dist', 'main.js'), 'process.exit(0)\n'),
    ),
    unsigned: buildBundle(sub('unsigned'), { version: '2.0.0', schema: 2, healthy: true }, undefined),
  };
});

afterAll(() => bundleDir.cleanup());

/** A staged box on 1.0.0 with its data; stopped and removed when the test ends. */
async function newBox(ctx: TestContext): Promise<StagedBox> {
  const d = tempDir('kgw-box-');
  const box = new StagedBox(d.path, key.publicKeyPem);
  ctx.onTestFinished(async () => {
    await box.stop();
    d.cleanup();
  });
  await box.install(bundles.v1, '1.0.0');
  return box;
}

describe.concurrent('kampung-gw upgrade', () => {
  it('upgrades to a healthy release: current and previous switch, data intact, schema migrated', async (ctx) => {
    const { expect } = ctx;
    const box = await newBox(ctx);
    const r = await box.cli([bundles.v2, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      outcome: 'upgraded',
      from: 'releases/1.0.0',
      to: 'releases/2.0.0',
    });
    const s = await box.state();
    expect(s).toMatchObject({ current: 'releases/2.0.0', serving: '2.0.0', schema: 2, precious: PRECIOUS });
    expect(box.link('previous')).toBe('releases/1.0.0');
    expect(box.journalPending()).toBe(false);
    expect(r.stderr).toMatch(/snapshot taken \(schema 1\)/);
  });

  it('rolls back a release that never gets healthy and restores the snapshot it migrated', async (ctx) => {
    const { expect } = ctx;
    const box = await newBox(ctx);
    const r = await box.cli([bundles.bad, '--health-timeout', '2', '--json']);
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ outcome: 'rolled-back', restored: true, oldHealthy: true });
    expect(out.reason).toMatch(/unhealthy: \/healthz 503 from 2\.0\.0-bad/);
    const s = await box.state();
    expect(s).toMatchObject({ current: 'releases/1.0.0', serving: '1.0.0', schema: 1, precious: PRECIOUS });
    // The snapshot's rows: the bad version's start is gone with its migration.
    expect(s.starts).not.toContain('started 2.0.0-bad');
    expect(box.link('previous')).toBeUndefined();
    expect(box.releases()).toEqual(['1.0.0']);
  });

  it.for([
    ['another key', 'otherKey', /signature does not match the pinned key/],
    ['an altered file', 'tampered', /SHA256SUMS check failed \(dist\/main\.js\)/],
    ['no signature', 'unsigned', /unsigned/],
  ] as const)('refuses a bundle with %s before changing anything', async ([_what, which, message], ctx) => {
    const { expect } = ctx;
    const box = await newBox(ctx);
    const before = await box.state();
    const r = await box.cli([bundles[which]]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/GW_ERR_BUNDLE_REFUSED/);
    expect(r.stderr).toMatch(message);
    expect(await box.state()).toEqual(before);
    expect(box.releases()).toEqual(['1.0.0']);
    expect(box.journalPending()).toBe(false);
  });

  it('refuses a bundle whose sha256 is not the one expected', async (ctx) => {
    const { expect } = ctx;
    const box = await newBox(ctx);
    const r = await box.cli([bundles.v2, '--sha256', 'a'.repeat(64)]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/sha256 is [0-9a-f]{64}, expected a{64}/);
    expect((await box.state()).current).toBe('releases/1.0.0');
  });

  it('keeps the last N releases', async (ctx) => {
    const { expect } = ctx;
    const box = await newBox(ctx);
    const d = tempDir('kgw-b3-');
    ctx.onTestFinished(() => d.cleanup());
    const v3 = buildBundle(d.path, { version: '3.0.0', schema: 2, healthy: true }, key.privateKey);
    expect((await box.cli([bundles.v2])).code).toBe(0);
    expect((await box.cli([v3])).code).toBe(0);
    expect(box.releases()).toEqual(['2.0.0', '3.0.0']);
    expect(box.link('previous')).toBe('releases/2.0.0');
    expect((await box.state()).serving).toBe('3.0.0');
  });
});

// kill -9 of the upgrader at each journal step, just before and just after the step is
// written; then `upgrade --resume` (what the upgrade unit runs at the next start).
const HAPPY_POINTS = [
  'after:verified',
  ...['snapshotted', 'unpacked', 'flipped', 'restarted', 'committed'].flatMap((s) => [
    `before:${s}`,
    `after:${s}`,
  ]),
];
const ROLLBACK_POINTS = ['restarted', 'rolling-back', 'rolled-back'].flatMap((s) => [
  `before:${s}`,
  `after:${s}`,
]);

describe.concurrent('kill -9 of the upgrade at each step, then --resume', () => {
  it('killed before the journal exists: nothing changed, and the next upgrade goes through', async (ctx) => {
    const { expect } = ctx;
    const box = await newBox(ctx);
    const before = await box.state();
    const crashed = await box.cli([bundles.v2], { KGW_UPGRADE_CRASH_AT: 'before:verified' });
    expect(crashed.signal, crashed.stderr).toBe('SIGKILL');
    expect(JSON.parse((await box.cli(['--resume', '--json'])).stdout).outcome).toBe('unchanged');
    expect(await box.state()).toEqual(before);
    expect(box.releases()).toEqual(['1.0.0']);
    expect((await box.cli([bundles.v2])).code).toBe(0);
    expect(await box.state()).toMatchObject({ serving: '2.0.0', schema: 2, precious: PRECIOUS });
  });

  it.for(HAPPY_POINTS)('healthy bundle, killed at %s: ends on 2.0.0 with its data', async (point, ctx) => {
    const { expect } = ctx;
    const box = await newBox(ctx);
    const crashed = await box.cli([bundles.v2], { KGW_UPGRADE_CRASH_AT: point });
    expect(crashed.signal, crashed.stderr).toBe('SIGKILL');
    // Whatever the moment, the box serves one of the two versions with its data meanwhile.
    const mid = await box.state();
    expect(mid.precious).toBe(PRECIOUS);
    const r = await box.cli(['--resume', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const s = await box.state();
    expect(s).toMatchObject({ current: 'releases/2.0.0', serving: '2.0.0', schema: 2, precious: PRECIOUS });
    expect(box.journalPending()).toBe(false);
    expect(box.releases()).toEqual(['1.0.0', '2.0.0']);
    // A second resume finds nothing to do.
    expect(JSON.parse((await box.cli(['--resume', '--json'])).stdout).outcome).toBe('unchanged');
  });

  it.for(ROLLBACK_POINTS)('bad bundle, killed at %s: ends on 1.0.0 with the snapshot', async (point, ctx) => {
    const { expect } = ctx;
    const box = await newBox(ctx);
    const crashed = await box.cli([bundles.bad, '--health-timeout', '2'], { KGW_UPGRADE_CRASH_AT: point });
    expect(crashed.signal, crashed.stderr).toBe('SIGKILL');
    const r = await box.cli(['--resume', '--health-timeout', '2', '--json']);
    expect(r.code, r.stderr).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ outcome: 'rolled-back', oldHealthy: true });
    const s = await box.state();
    expect(s).toMatchObject({ current: 'releases/1.0.0', serving: '1.0.0', schema: 1, precious: PRECIOUS });
    expect(s.starts).not.toContain('started 2.0.0-bad');
    expect(box.journalPending()).toBe(false);
    expect(box.releases()).toEqual(['1.0.0']);
  });

  // A power cut kills the service too; at boot it starts on whatever current names (perhaps the
  // new release, unchecked, perhaps a bad one), then the upgrade unit resumes.
  it.for([
    ['after:snapshotted', 'v2', '2.0.0'],
    ['after:flipped', 'v2', '2.0.0'],
    ['before:committed', 'v2', '2.0.0'],
    ['after:restarted', 'bad', '1.0.0'],
    ['after:rolling-back', 'bad', '1.0.0'],
  ] as const)('power cut at %s (%s): boots, resumes, ends on %s', async ([point, which, end], ctx) => {
    const { expect } = ctx;
    const box = await newBox(ctx);
    const crashed = await box.cli([bundles[which], '--health-timeout', '2'], { KGW_UPGRADE_CRASH_AT: point });
    expect(crashed.signal, crashed.stderr).toBe('SIGKILL');
    box.killService();
    await box.boot();
    const r = await box.cli(['--resume', '--health-timeout', '2', '--json']);
    expect(r.code, r.stderr).toBe(end === '2.0.0' ? 0 : 1);
    const s = await box.state();
    expect(s).toMatchObject({
      current: `releases/${end}`,
      serving: end,
      schema: end === '2.0.0' ? 2 : 1,
      precious: PRECIOUS,
    });
    expect(box.journalPending()).toBe(false);
  });

  it('refuses a new upgrade while an interrupted one waits for --resume', async (ctx) => {
    const { expect } = ctx;
    const box = await newBox(ctx);
    await box.cli([bundles.v2], { KGW_UPGRADE_CRASH_AT: 'after:flipped' });
    const r = await box.cli([bundles.v2]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/GW_ERR_UPGRADE_BUSY: an interrupted upgrade is pending/);
    expect(existsSync(join(box.appDir, 'upgrade', 'lock'))).toBe(false);
    expect(JSON.parse(readFileSync(join(box.appDir, 'upgrade', 'journal.json'), 'utf8')).step).toBe(
      'flipped',
    );
  });
});
