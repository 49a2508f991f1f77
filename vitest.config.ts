import { configDefaults, defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * The longest files (per-file times of a full CI pass), started first. On a clean clone
 * vitest has no timings yet and starts larger files first, which left the 2-minute netns
 * file running alone at the end of the first pass: 150 s of one worker idle.
 */
const LONGEST = [
  'tests/uplink/netns.test.ts',
  'tests/regency/collector.test.ts',
  'tests/config/accepted-configs.property.test.ts',
  'tests/demo/demo-story.test.ts',
  'tests/devices/crash.test.ts',
  'tests/regency/revoked.test.ts',
  'tests/regency/regency-day.test.ts',
  'tests/web/page.test.ts',
  'tests/regency/provision-fetch.test.ts',
  'tests/report/tls.test.ts',
];

class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (s: TestSpecification) => {
      const i = LONGEST.findIndex((p) => s.moduleId.endsWith(p));
      return i < 0 ? LONGEST.length : i;
    };
    // Stable: the rest keeps vitest's own order (by earlier durations once it has them).
    return (await super.sort(files)).sort((a, b) => rank(a) - rank(b));
  }
}

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
    sequence: { sequencer: LongestFirst },
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
