import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { PRECIOUS } from './box.js';
import { buildBundle } from './fake-bundle.js';
import { type UpgradeFixture, upgradeFixture } from './fixtures.js';

// `kampung-gw upgrade` on a staged root with stub releases (tests/upgrade/fixtures.ts).
let f: UpgradeFixture;
beforeAll(() => {
  f = upgradeFixture();
});
afterAll(() => f.cleanup());

describe.concurrent('kampung-gw upgrade', () => {
  it('upgrades to a healthy release: current and previous switch, data intact, schema migrated', async (ctx) => {
    const { expect } = ctx;
    const box = await f.newBox(ctx);
    const r = await box.cli([f.bundles.v2, '--json']);
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
    const box = await f.newBox(ctx);
    const r = await box.cli([f.bundles.bad, '--health-timeout', '2', '--json']);
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
    const box = await f.newBox(ctx);
    const before = await box.state();
    const r = await box.cli([f.bundles[which]]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/GW_ERR_BUNDLE_REFUSED/);
    expect(r.stderr).toMatch(message);
    expect(await box.state()).toEqual(before);
    expect(box.releases()).toEqual(['1.0.0']);
    expect(box.journalPending()).toBe(false);
  });

  it('refuses a bundle whose sha256 is not the one expected', async (ctx) => {
    const { expect } = ctx;
    const box = await f.newBox(ctx);
    const r = await box.cli([f.bundles.v2, '--sha256', 'a'.repeat(64)]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/sha256 is [0-9a-f]{64}, expected a{64}/);
    expect((await box.state()).current).toBe('releases/1.0.0');
  });

  it('keeps the last N releases', async (ctx) => {
    const { expect } = ctx;
    const box = await f.newBox(ctx);
    const v3 = buildBundle(f.tmp(ctx), { version: '3.0.0', schema: 2, healthy: true }, f.key.privateKey);
    expect((await box.cli([f.bundles.v2])).code).toBe(0);
    expect((await box.cli([v3])).code).toBe(0);
    expect(box.releases()).toEqual(['2.0.0', '3.0.0']);
    expect(box.link('previous')).toBe('releases/2.0.0');
    expect((await box.state()).serving).toBe('3.0.0');
  });

  it('refuses a new upgrade while an interrupted one waits for --resume', async (ctx) => {
    const { expect } = ctx;
    const box = await f.newBox(ctx);
    await box.cli([f.bundles.v2], { KGW_UPGRADE_CRASH_AT: 'after:flipped' });
    const r = await box.cli([f.bundles.v2]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/GW_ERR_UPGRADE_BUSY: an interrupted upgrade is pending/);
    expect(existsSync(join(box.appDir, 'upgrade', 'lock'))).toBe(false);
    expect(JSON.parse(readFileSync(join(box.appDir, 'upgrade', 'journal.json'), 'utf8')).step).toBe(
      'flipped',
    );
  });
});
