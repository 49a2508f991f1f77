import { mkdtempSync, rmSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { buildApp, modulesWith } from '../app.js';
import { loadConfig } from '../config/loader.js';
import { GwError } from '../core/errors.js';
import { LogRing } from '../core/log-ring.js';
import { createLogger } from '../core/logger.js';
import { demoModule } from '../demo/demo-module.js';
import { seedDemoHistory } from '../demo/history-seed.js';
import { FiberCutScenario } from '../demo/scenario.js';
import { DemoWorld } from '../demo/world.js';
import { readVersion } from '../version.js';
import { readCodeFile, setupCodePath } from '../web/auth/setup-code.js';
import type { CommonArgs } from './args.js';
import type { CliIo } from './io.js';

const HELP = `kampung-gw demo [--scenario fiber-cut] [--speed X] [--fleet N]

  --scenario fiber-cut  start the bad-day scenario right away (the page has a button for it)
  --speed X             time compression of the scenario, the kiosks and the fleet (default 1;
                        also KAMPUNG_GW_DEMO_SPEED)
  --fleet N             how many of Banyuwangi's other 202 villages report to the regency
                        wall as simulated gateways (default 202; 0: the demo village alone)
Environment: KAMPUNG_GW_DEMO_PORT (page port, default 8080), KAMPUNG_GW_DEMO_KEEP=1 (keep the
temporary data).
`;

/**
 * `kampung-gw demo`: a complete try-out in one process — the real daemon on a temporary data
 * dir, the world around it (router, ONT, a public-service upstream, kiosks) and the real
 * regency collector and fleet page on an embedded broker, with the regency's other villages
 * simulated around it — then prints both URLs and the setup codes. Ctrl-C stops everything
 * and deletes the temp dir (KAMPUNG_GW_DEMO_KEEP=1 keeps it). The page port is KAMPUNG_GW_DEMO_PORT, default 8080, or any free port when taken.
 */
export async function demoCommand(args: CommonArgs, io: CliIo): Promise<number> {
  const { values } = parseFlags(args.positionals);
  if (values.help) {
    io.out(HELP);
    return 0;
  }
  const scenarioName = values.scenario;
  if (scenarioName !== undefined && scenarioName !== 'fiber-cut')
    throw new GwError('GW_ERR_USAGE', `unknown scenario: ${scenarioName} (known: fiber-cut)`);
  const factor = Number(values.speed ?? io.env.KAMPUNG_GW_DEMO_SPEED ?? 1);
  if (!Number.isFinite(factor) || factor < 1 || factor > 100)
    throw new GwError('GW_ERR_USAGE', '--speed must be a number from 1 to 100');

  const fleetCount = Number(values.fleet ?? 202);
  if (!Number.isInteger(fleetCount) || fleetCount < 0 || fleetCount > 202)
    throw new GwError('GW_ERR_USAGE', '--fleet must be a whole number from 0 to 202');

  const t0 = performance.now();
  const dir = mkdtempSync(join(tmpdir(), 'kampung-gw-demo-'));
  const wanted = Number(io.env.KAMPUNG_GW_DEMO_PORT ?? 8080);
  // A concrete port even when 8080 is taken: the kiosks need the gateway's URL up front.
  const httpPort = (await portFree(wanted)) ? wanted : await anyPort();
  const warn = pino.destination({ dest: 2, sync: true });
  const world = new DemoWorld({
    dir,
    httpPort,
    factor,
    // Errors only: the scenario's broker stop would otherwise fill the terminal with reconnects.
    regencyLog: createLogger({ level: 'error', base: { regency: 'demo' }, destination: warn }),
  });
  const scenario = new FiberCutScenario(world, factor);
  let app: ReturnType<typeof buildApp> | undefined;
  try {
    await world.start();
    const { config } = loadConfig(world.configPath);
    // Only warnings reach the terminal; the page's Log tab shows everything.
    const logRing = new LogRing();
    const log = createLogger({
      level: config.log_level,
      base: { gw: config.gateway.id },
      destination: pino.multistream([
        { level: 'warn', stream: warn },
        { level: 'trace', stream: logRing },
      ]),
    });
    app = buildApp({
      config,
      log,
      version: readVersion(),
      env: io.env,
      logRing,
      modules: modulesWith([demoModule({ world, scenario })]),
    });
    // The regency starts alongside: the gateway only needs the broker, which already runs.
    await Promise.all([app.start(), world.startRegency()]);
    world.startFleet({
      exclude: config.gateway.id,
      count: fleetCount,
      log: createLogger({ level: 'error', base: { fleet: 'demo' }, destination: warn }),
    });
    seedDemoHistory(app);
    // Fill the cache now rather than after the prefetch's boot delay.
    void app.cache.refreshCache().catch(() => undefined);
    await world.startKiosks();
    const code = readCodeFile(setupCodePath(config.data_dir)) ?? '(sudah dipakai / already used)';
    const startS = (performance.now() - t0) / 1000;
    io.out(
      [
        '',
        'kampung-gw demo berjalan / is running',
        `  Halaman teknisi / technician page: ${world.gateway}/`,
        `  Kode penyiapan / setup code:       ${code}`,
        `  Tampilan kabupaten / regency view: http://127.0.0.1:${world.regencyPort}/`,
        `  Kode kabupaten / regency code:     ${world.regencyCode ?? '(sudah dipakai / already used)'}`,
        `  MQTT broker (kabupaten/regency):   ${world.broker.url}`,
        `  Data (sementara / temporary):      ${dir}`,
        `  Siap dalam / ready in:             ${startS.toFixed(2)} s, RSS ${Math.round(process.memoryUsage().rss / 1048576)} MiB`,
        scenarioName
          ? `  Skenario / scenario:               ${scenarioName} (×${factor})`
          : '  Skenario "Hari buruk" / bad-day scenario: tombol di halaman / button on the page',
        '  Ctrl-C untuk berhenti / to stop.',
        '',
      ].join('\n'),
    );
    if (scenarioName) scenario.start();
    await waitForSignal();
    io.out('\nberhenti / stopping…');
    return 0;
  } catch (err) {
    io.err(`demo failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  } finally {
    await scenario.stop().catch(() => undefined);
    world.services?.stopAll();
    await app?.stop();
    await world.stop();
    if (io.env.KAMPUNG_GW_DEMO_KEEP !== '1') rmSync(dir, { recursive: true, force: true });
  }
}

function parseFlags(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      strict: true,
      options: {
        scenario: { type: 'string' },
        speed: { type: 'string' },
        fleet: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw new GwError('GW_ERR_USAGE', (err as Error).message);
  }
}

function waitForSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (sig: NodeJS.Signals) => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(sig);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}

function anyPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

function portFree(port: number): Promise<boolean> {
  if (!Number.isInteger(port) || port <= 0) return Promise.resolve(false);
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}
