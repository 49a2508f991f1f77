import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { validateConfigText } from '../../src/config/loader.js';
import { ConfigSchema } from '../../src/config/schema.js';
import { type LogLine, TestDaemon } from '../helpers/daemon.js';
import { fuzzRuns } from '../helpers/fuzz.js';
import { freePort } from '../helpers/net.js';
import { arbitraryFromSchema, type Override } from '../helpers/schema-arbitrary.js';

/**
 * The rule: any config that check-config accepts starts, runs and stops cleanly. Configs are
 * generated from the config schema itself, with every network target on loopback, on TEST-NET
 * (RFC 5737: routed nowhere) or under `.invalid` (RFC 6761: never resolves), so nothing leaves
 * the box. Each accepted config runs a real daemon for a short life, then SIGTERM: exit 0 and
 * no fatal log line.
 */

const RUNS = fuzzRuns(40);
const CONCURRENCY = Number(process.env.FUZZ_CONCURRENCY ?? 6);
const LIFE_MS = 1500;
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);

const HOSTS = [
  '192.0.2.1',
  '198.51.100.7',
  '203.0.113.254',
  '127.0.0.1',
  '::1',
  'localhost',
  'resolver.nonexistent.invalid',
  'x.invalid',
];
const host = fc.constantFrom(...HOSTS);
const port = fc.oneof(fc.constantFrom(1, 9, 53, 443, 65535), fc.integer({ min: 1, max: 65535 }));
const url = (schemes: string[]) =>
  fc
    .tuple(
      fc.constantFrom(...schemes),
      host,
      fc.option(port, { nil: undefined }),
      fc.constantFrom('', '/', '/health', '/a/b?c=1'),
    )
    .map(([s, h, p, path]) => `${s}://${h.includes(':') ? `[${h}]` : h}${p ? `:${p}` : ''}${path}`);

/** Cron strings that schedule (some rarely or every second) and some that must be refused. */
const CRONS = [
  '30 3 * * 0',
  '* * * * *',
  '* * * * * *',
  '*/1 * * * * *',
  '0 0 29 2 *',
  '0 0 31 12 *',
  '1-0 * * * *',
  '0-59/61 * * * *',
  '5,5 * * * MON',
  '0 0 * * 7',
];
const BAD_CRONS = ['99 99 * * *', '0 0 31 2 *', '@daily', 'not a cron', '* * * * * * *'];
const cron = fc.oneof(
  { weight: 9, arbitrary: fc.constantFrom(...CRONS) },
  { weight: 1, arbitrary: fc.constantFrom(...BAD_CRONS) },
);

/** Values the schema cannot describe: where traffic may go and which files exist. */
const override: Override = (path, key, schema) => {
  if (path === 'http.listen') return fc.constantFrom('127.0.0.1:0'); // replaced by a free port
  if (path === 'data_dir') return fc.constantFrom('data', 'data/nested/deeper');
  if (path === 'system.timesync_flag') return fc.constantFrom('/nonexistent/synchronized', 'flag');
  if (path === 'mqtt.url') return url(['mqtt', 'mqtts']);
  if (key.endsWith('_file'))
    return fc.constantFrom('files/secret.txt', 'files/garbage.pem', 'files/empty.txt');
  if (key === 'host' || key === 'server') return host;
  if (key === 'url' || key === 'base_url') return url(['http', 'https']);
  if (schema.format === 'cron') return cron;
  return undefined;
};

const configs = arbitraryFromSchema(ConfigSchema as never, {
  override,
  maxItems: 3,
  optionalRate: 0.85,
});

function writeFiles(dir: string): void {
  mkdirSync(join(dir, 'files'), { recursive: true });
  writeFileSync(join(dir, 'files', 'secret.txt'), 'Zk3p9QvX2mW8rT5yL1nB6cH4jD7sF0gA\n', { mode: 0o600 });
  writeFileSync(join(dir, 'files', 'garbage.pem'), '-----BEGIN CERTIFICATE-----\nnot base64\n', {
    mode: 0o600,
  });
  writeFileSync(join(dir, 'files', 'empty.txt'), '', { mode: 0o600 });
  writeFileSync(join(dir, 'flag'), '');
}

interface Outcome {
  accepted: boolean;
  problem?: string;
  config?: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts the daemon on one config if check-config accepts it; reports what went wrong. */
async function tryConfig(generated: Record<string, unknown>): Promise<Outcome> {
  // A fixed free port rather than :0, whose port is only logged at info level and above.
  const httpPort = await freePort();
  const http = { ...(generated.http as object), listen: `127.0.0.1:${httpPort}` };
  const daemon = new TestDaemon({ config: { ...generated, http }, waitHealthy: false });
  try {
    writeFiles(daemon.dir);
    const text = readFileSync(daemon.configPath, 'utf8');
    if (!validateConfigText(text, daemon.configPath).ok) return { accepted: false };
    await daemon.start();
    daemon.port = httpPort;
    try {
      // Generous: other test files share the two cores. A daemon still starting is no failure;
      // one that exited is.
      await daemon.waitHealthy(60_000);
    } catch (err) {
      if (daemon.proc?.exitCode !== null) {
        const tail = daemon.logs.slice(-3).map((l) => JSON.stringify(l).slice(0, 400));
        return { accepted: true, problem: `${(err as Error).message}\n${tail.join('\n')}`, config: text };
      }
    }
    await sleep(LIFE_MS);
    const fatal = (l: LogLine) => l.level === 'fatal';
    const early = daemon.proc?.exitCode;
    const stop = await daemon.stop('SIGTERM', 20_000);
    const problems = [
      early !== null && early !== undefined ? `exited on its own with ${early}` : '',
      stop.code !== 0 ? `SIGTERM: exit ${stop.code ?? stop.signal}` : '',
      daemon.logs.some(fatal) ? `fatal log: ${JSON.stringify(daemon.logs.find(fatal)).slice(0, 600)}` : '',
      /uncaught|unhandled/i.test(daemon.stderr) ? `stderr: ${daemon.stderr.slice(0, 600)}` : '',
    ].filter(Boolean);
    return { accepted: true, ...(problems.length ? { problem: problems.join('; '), config: text } : {}) };
  } finally {
    await daemon.dispose();
  }
}

describe('any config check-config accepts starts, runs and stops cleanly (property)', () => {
  it(
    `${RUNS} generated configs, each a real daemon: exit 0 on SIGTERM, no fatal log`,
    async () => {
      // Candidates are drawn from one seed (printed on failure: FUZZ_SEED=… reproduces them) and
      // run several at a time; those check-config rejects are skipped, as an operator would fix them.
      // Most candidates are refused (about 1 in 5 is accepted), so many more are drawn than
      // RUNS: with 5 per run, some seeds gave only 6 accepted configs of 8 and failed the count.
      const candidates = fc.sample(configs, { numRuns: RUNS * 25, seed: SEED }) as Array<
        Record<string, unknown>
      >;
      let next = 0;
      let accepted = 0;
      const failures: Outcome[] = [];
      const worker = async () => {
        while (accepted < RUNS && next < candidates.length && failures.length < 3) {
          const config = candidates[next++] as Record<string, unknown>;
          const r = await tryConfig(config);
          if (r.accepted) accepted++;
          if (r.problem) failures.push(r);
        }
      };
      await Promise.all(Array.from({ length: CONCURRENCY }, worker));
      const report = failures
        .map((f) => `${f.problem}\n--- config (FUZZ_SEED=${SEED}) ---\n${f.config}`)
        .join('\n\n');
      expect(report, report).toBe('');
      expect(accepted).toBeGreaterThanOrEqual(RUNS);
    },
    // About 1 CPU-second per daemon (start-up dominates): ~0.5 s each on two idle cores; the
    // limit leaves room for a box shared with other test runs.
    RUNS * 4000 + 120_000,
  );
});
