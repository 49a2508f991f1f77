import { pino } from 'pino';
import { buildApp } from '../app.js';
import { loadConfig, resolveConfigPath } from '../config/loader.js';
import { LogRing } from '../core/log-ring.js';
import { createLogger, type Logger } from '../core/logger.js';
import { readVersion } from '../version.js';
import type { CommonArgs } from './args.js';
import type { CliIo } from './io.js';

export interface RunHooks {
  /** Lets main.ts log fatal errors with the daemon's logger. */
  onLogger?(log: Logger): void;
}

/**
 * Runs until SIGTERM/SIGINT; resolves to the exit code. SIGHUP (`systemctl reload`) re-reads
 * the secret files — kiosk tokens, upstream credentials — without a restart; the config itself
 * is read at start only (a changed config needs `systemctl restart`, after `check-config`).
 */
export async function runCommand(args: CommonArgs, io: CliIo, hooks: RunHooks = {}): Promise<number> {
  const { config, file, advisories } = loadConfig(resolveConfigPath(args.config, io.env));
  const version = readVersion();
  // Every line goes to stdout (journald) and to a small ring the technician page reads.
  const logRing = new LogRing();
  const destination = pino.multistream([
    { level: 'trace', stream: pino.destination({ dest: 1, sync: true }) },
    { level: 'trace', stream: logRing },
  ]);
  const log = createLogger({ level: config.log_level, base: { gw: config.gateway.id }, destination });
  hooks.onLogger?.(log);
  for (const a of advisories)
    log.warn({ key: a.path, problem: a.message }, 'config: insecure setting (check-config refuses it)');
  const app = buildApp({ config, log, version, env: io.env, logRing, showSetupCode: terminalNotice(io) });
  const t0 = performance.now();

  let signalled: NodeJS.Signals | undefined;
  let wake: (() => void) | undefined;
  const stopRequested = new Promise<void>((resolve) => {
    wake = resolve;
  });
  const onSignal = (sig: NodeJS.Signals) => {
    if (signalled) return;
    signalled = sig;
    wake?.();
  };
  const onHangup = () => {
    const results = app.reload();
    const problems = results.flatMap((r) => r.problems);
    if (problems.length > 0) log.warn({ problems }, 'SIGHUP: reloaded, some secret files not usable');
    else log.info({ modules: results.map((r) => r.module) }, 'SIGHUP: secret files reloaded');
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  process.on('SIGHUP', onHangup);

  try {
    await app.start();
  } catch (err) {
    log.fatal({ err }, 'start failed');
    await app.stop();
    return 1;
  }
  const ms = Math.round(performance.now() - t0);
  log.info({ config: file, version, runId: app.deps.runId, ms }, 'kampung-gateway started');
  await app.deps.notifier.ready(`${config.gateway.id} running`);

  await stopRequested;
  log.info({ signal: signalled }, 'stopping');
  await app.deps.notifier.stopping();
  const failed = await app.stop();
  app.deps.notifier.close();
  process.off('SIGTERM', onSignal);
  process.off('SIGINT', onSignal);
  process.off('SIGHUP', onHangup);
  log.info({ failed }, 'stopped');
  return 0;
}

/**
 * A person started the daemon by hand at a terminal: show them the setup code there. Under
 * systemd stdout is the journal, which the `adm` group reads: the code stays in its 0600 file.
 */
function terminalNotice(io: CliIo): ((code: string, file: string) => void) | undefined {
  if (!io.stdoutIsTTY) return undefined;
  return (code, file) =>
    io.out(
      `Kode penyiapan (one-time setup code): ${code} — juga di ${file} / also in ${file}; ` +
        'buka halaman teknisi dan buat akun pertama / open the page and create the first account',
    );
}
