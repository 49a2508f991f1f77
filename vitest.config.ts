import { configDefaults, defineConfig } from 'vitest/config';

/**
 * The page's browser tests (Debian Chromium on what the daemon serves). `npm test` and
 * `test:future` run them; the Node 22 and 24 passes (scripts/test-runtimes.sh) leave them out
 * with KGW_TEST_BROWSER=0 to keep .ci/run inside its budget: the browser is the same binary
 * whatever Node serves the page, and every route is also tested over plain HTTP there.
 */
const BROWSER_TESTS = [
  'tests/web/page*.test.ts',
  'tests/regency/page.test.ts',
  'tests/regency/sla-page.test.ts',
  'tests/demo/demo-story.test.ts',
];

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    exclude: [
      ...configDefaults.exclude,
      // The release tests build bundles for minutes: only `npm run test:release` runs them.
      ...(process.env.KGW_RELEASE_TESTS ? [] : ['tests/ops/release*.test.ts']),
      ...(process.env.KGW_TEST_BROWSER === '0' ? BROWSER_TESTS : []),
    ],
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
