import { afterAll, beforeAll, describe, it } from 'vitest';
import { PRECIOUS } from './box.js';
import { type UpgradeFixture, upgradeFixture } from './fixtures.js';

let f: UpgradeFixture;
beforeAll(() => {
  f = upgradeFixture();
});
afterAll(() => f.cleanup());

// kill -9 of the upgrader at each journal step, just before and just after the step is
// written; then `upgrade --resume` (what the upgrade unit runs at the next start).
const HAPPY_POINTS = [
  'after:verified',
  ...['snapshotted', 'unpacked', 'flipped', 'restarted', 'committed'].flatMap((s) => [
    `before:${s}`,
    `after:${s}`,
  ]),
];

describe.concurrent('kill -9 of the upgrade at each step, then --resume', () => {
  it('killed before the journal exists: nothing changed, and the next upgrade goes through', async (ctx) => {
    const { expect } = ctx;
    const box = await f.newBox(ctx);
    const before = await box.state();
    const crashed = await box.cli([f.bundles.v2], { KGW_UPGRADE_CRASH_AT: 'before:verified' });
    expect(crashed.signal, crashed.stderr).toBe('SIGKILL');
    expect(JSON.parse((await box.cli(['--resume', '--json'])).stdout).outcome).toBe('unchanged');
    expect(await box.state()).toEqual(before);
    expect(box.releases()).toEqual(['1.0.0']);
    expect((await box.cli([f.bundles.v2])).code).toBe(0);
    expect(await box.state()).toMatchObject({ serving: '2.0.0', schema: 2, precious: PRECIOUS });
  });

  it.for(HAPPY_POINTS)('healthy bundle, killed at %s: ends on 2.0.0 with its data', async (point, ctx) => {
    const { expect } = ctx;
    const box = await f.newBox(ctx);
    const crashed = await box.cli([f.bundles.v2], { KGW_UPGRADE_CRASH_AT: point });
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
});
