import { afterAll, beforeAll, describe, it } from 'vitest';
import { PRECIOUS } from './box.js';
import { type UpgradeFixture, upgradeFixture } from './fixtures.js';

let f: UpgradeFixture;
beforeAll(() => {
  f = upgradeFixture();
});
afterAll(() => f.cleanup());

// kill -9 of the upgrader around each journal write of the way back, and power cuts (the
// service killed too) on both ways; each followed by `upgrade --resume`.
const ROLLBACK_POINTS = ['restarted', 'rolling-back', 'rolled-back'].flatMap((s) => [
  `before:${s}`,
  `after:${s}`,
]);

describe.concurrent('kill -9 on the way back, and power cuts, then --resume', () => {
  it.for(ROLLBACK_POINTS)('bad bundle, killed at %s: ends on 1.0.0 with the snapshot', async (point, ctx) => {
    const { expect } = ctx;
    const box = await f.newBox(ctx);
    const crashed = await box.cli([f.bundles.bad, '--health-timeout', '2'], { KGW_UPGRADE_CRASH_AT: point });
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
    const box = await f.newBox(ctx);
    const crashed = await box.cli([f.bundles[which], '--health-timeout', '2'], {
      KGW_UPGRADE_CRASH_AT: point,
    });
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
});
