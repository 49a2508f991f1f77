import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // The release tests build bundles for minutes: only `npm run test:release` runs them.
    exclude: process.env.KGW_RELEASE_TESTS
      ? configDefaults.exclude
      : [...configDefaults.exclude, 'tests/ops/release*.test.ts'],
    pool: 'forks',
    // Two cores: more parallel files only add timing noise to the fault tests.
    maxWorkers: 2,
    testTimeout: 30_000,
    // CI runs the suite four times (Node 20, a year ahead, Node 22, Node 24) on a 2-core box:
    // a test that fails there is run once more, so one timing flake does not block a landing.
    // Vitest reports every retried test (retryCount in test-artifacts/vitest.json): each one is
    // a flake to fix, not a pass to trust. Local runs never retry.
    retry: process.env.CI ? 1 : 0,
    hookTimeout: 30_000,
    reporters: ['default'],
  },
});
