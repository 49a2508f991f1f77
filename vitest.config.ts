import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // The release tests build bundles for minutes: only `npm run test:release` runs them.
    exclude: process.env.KGW_RELEASE_TESTS
      ? configDefaults.exclude
      : [...configDefaults.exclude, 'tests/ops/release.test.ts'],
    pool: 'forks',
    // Two cores: more parallel files only add timing noise to the fault tests.
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 30_000,
    reporters: ['default'],
  },
});
