import { mkdtempSync, rmSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { buildApp } from '../app.js';
import { loadConfig } from '../config/loader.js';
import { LogRing } from '../core/log-ring.js';
import { createLogger } from '../core/logger.js';
import { demoKiosks, writeDemoConfig } from '../demo/demo-config.js';
import { DemoRegency } from '../demo/regency.js';
import { KioskSim } from '../sim/kiosk.js';
import { readVersion } from '../version.js';
import { readCodeFile, setupCodePath } from '../web/auth/setup-code.js';
import type { CommonArgs } from './args.js';
import type { CliIo } from './io.js';

/**
 * `kampung-gw demo`: a complete try-out in one process — an embedded MQTT broker standing in
 * for the regency, simulated kiosks, and the real daemon on a temporary data dir — then
 * prints the page URL and the one-time setup code. Ctrl-C stops everything and deletes the
 * temp dir (KAMPUNG_GW_DEMO_KEEP=1 keeps it). The page port is KAMPUNG_GW_DEMO_PORT, default
 * 8080, or any free port when that one is taken.
 */
export async function demoCommand(_args: CommonArgs, io: CliIo): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'kampung-gw-demo-'));
  const regency = new DemoRegency();
  await regency.start();
  const wanted = Number(io.env.KAMPUNG_GW_DEMO_PORT ?? 8080);
  // A concrete port even when 8080 is taken: the kiosks need the gateway's URL up front.
  const httpPort = (await portFree(wanted)) ? wanted : await anyPort();
  const gateway = `http://127.0.0.1:${httpPort}`;
  // The device module's kiosk simulator: heartbeats, usage events, and a /health the gateway checks.
  const sims = demoKiosks(dir).map((k) => ({
    ...k,
    sim: new KioskSim({
      gateway,
      deviceId: k.id,
      token: k.token,
      rate: 0.2,
      heartbeatMs: 10_000,
      healthPort: 0,
    }),
  }));
  for (const k of sims) await k.sim.startHealth();
  const configPath = writeDemoConfig(
    dir,
    { http: httpPort, mqtt: regency.mqttPort, regencyHttp: regency.httpPort },
    sims.map((k) => ({ ...k, healthUrl: k.sim.healthUrl })),
  );
  const { config } = loadConfig(configPath);

  // Only warnings reach the terminal; the page's Log tab shows everything.
  const logRing = new LogRing();
  const log = createLogger({
    level: config.log_level,
    base: { gw: config.gateway.id },
    destination: pino.multistream([
      { level: 'warn', stream: pino.destination({ dest: 2, sync: true }) },
      { level: 'trace', stream: logRing },
    ]),
  });
  const app = buildApp({ config, log, version: readVersion(), env: io.env, logRing });
  try {
    await app.start();
    const url = `${gateway}/`;
    for (const k of sims) {
      await k.sim.start();
      if (k.diesAfterS !== undefined) {
        app.deps.scheduler.after(`demo-stop-${k.id}`, k.diesAfterS * 1000, () => void k.sim.stop());
      }
    }
    const code = readCodeFile(setupCodePath(config.data_dir)) ?? '(sudah dipakai / already used)';
    io.out(
      [
        '',
        'kampung-gw demo berjalan / is running',
        `  Halaman teknisi / technician page: ${url}`,
        `  Kode penyiapan / setup code:       ${code}`,
        `  MQTT broker (kabupaten/regency):   mqtt://127.0.0.1:${regency.mqttPort}`,
        `  Tampilan kabupaten / regency view: http://127.0.0.1:${regency.httpPort}/`,
        `  Data (sementara / temporary):      ${dir}`,
        '  Ctrl-C untuk berhenti / to stop.',
        '',
      ].join('\n'),
    );
    app.deps.scheduler.every({
      name: 'demo-regency-view',
      intervalMs: 60_000,
      initialDelayMs: 60_000,
      run: () => io.out(regency.describe()),
    });
    await waitForSignal();
    io.out('\nberhenti / stopping…');
    return 0;
  } catch (err) {
    log.fatal({ err }, 'demo failed to start');
    return 1;
  } finally {
    await Promise.all(sims.map((k) => k.sim.stop()));
    await app.stop();
    io.out(regency.describe());
    await regency.stop();
    if (io.env.KAMPUNG_GW_DEMO_KEEP !== '1') rmSync(dir, { recursive: true, force: true });
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
