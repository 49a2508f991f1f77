import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'vitest';
import { tempDir } from '../helpers/tmp.js';
import { StagedBox } from './box.js';
import { buildBundle, testKey } from './fake-bundle.js';

/**
 * Stub releases signed by the release signing code with a test key: 1.0.0 (schema 1), 2.0.0
 * (schema 2, healthy), 2.0.0-bad (migrates to schema 2, never healthy), and three that must be
 * refused: signed with another key, altered after signing, unsigned.
 */
export interface Bundles {
  v1: string;
  v2: string;
  bad: string;
  otherKey: string;
  tampered: string;
  unsigned: string;
}

export interface UpgradeFixture {
  bundles: Bundles;
  /** A staged box on 1.0.0 with its data; stopped and removed when the test ends. */
  newBox(ctx: TestContext): Promise<StagedBox>;
  /** A folder removed when the test ends. */
  tmp(ctx: TestContext): string;
  cleanup(): void;
  key: ReturnType<typeof testKey>;
}

export function upgradeFixture(): UpgradeFixture {
  const key = testKey();
  const other = testKey();
  const d = tempDir('kgw-bundles-');
  const sub = (n: string) => {
    const p = join(d.path, n);
    mkdirSync(p);
    return p;
  };
  const healthy2 = { version: '2.0.0', schema: 2, healthy: true };
  const bundles: Bundles = {
    v1: buildBundle(sub('v1'), { version: '1.0.0', schema: 1, healthy: true }, key.privateKey),
    v2: buildBundle(sub('v2'), healthy2, key.privateKey),
    bad: buildBundle(sub('bad'), { version: '2.0.0-bad', schema: 2, healthy: false }, key.privateKey),
    otherKey: buildBundle(sub('other'), healthy2, other.privateKey),
    tampered: buildBundle(sub('tampered'), healthy2, key.privateKey, (dir) =>
      writeFileSync(join(dir, 'dist', 'main.js'), 'process.exit(0)\n'),
    ),
    unsigned: buildBundle(sub('unsigned'), healthy2, undefined),
  };
  const tmp = (ctx: TestContext) => {
    const t = tempDir('kgw-box-');
    ctx.onTestFinished(() => t.cleanup());
    return t.path;
  };
  return {
    bundles,
    key,
    tmp,
    cleanup: () => d.cleanup(),
    newBox: async (ctx) => {
      const box = new StagedBox(tmp(ctx), key.publicKeyPem);
      ctx.onTestFinished(() => box.stop());
      await box.install(bundles.v1, '1.0.0');
      return box;
    },
  };
}
