#!/usr/bin/env -S node --max-semi-space-size=4
// The flag caps V8's young generation (lower peak RSS under HTTP load, same req/s; see
// docs/cache.md). It is here too so that `kampung-gw run` started by hand matches the unit.
import { parseCommon } from './cli/args.js';
import { type CliIo, processIo } from './cli/io.js';
import { USAGE } from './cli/usage.js';
import { formatIssues } from './config/issues.js';
import type { ConfigIssue } from './config/types.js';
import { isGwError } from './core/errors.js';
import type { Logger } from './core/logger.js';

type Command = (args: ReturnType<typeof parseCommon>, io: CliIo) => Promise<number>;

let daemonLog: Logger | undefined;

// Each command loads only its own modules: the daemon never carries the demo's embedded
// broker or doctor's checks in memory, and `check-config` starts fast.
const COMMANDS: Record<string, Command> = {
  run: async (args, io) =>
    (await import('./cli/run.js')).runCommand(args, io, { onLogger: (l) => (daemonLog = l) }),
  'check-config': async (args, io) => (await import('./cli/check-config.js')).checkConfigCommand(args, io),
  status: async (args, io) => (await import('./cli/status.js')).statusCommand(args, io),
  'setup-code': async (args, io) => (await import('./cli/setup-code.js')).setupCodeCommand(args, io),
  doctor: async (args, io) => (await import('./cli/doctor.js')).doctorCommand(args, io),
  user: async (args, io) => (await import('./cli/user.js')).userCommand(args, io),
  provision: async (args, io) => (await import('./cli/provision.js')).provisionBoxCommand(args, io),
  demo: async (args, io) => (await import('./cli/demo.js')).demoCommand(args, io),
  upgrade: async (args, io) => (await import('./cli/upgrade.js')).upgradeCommand(args.positionals, io),
  'fleet-sim': async (args, io) => (await import('./cli/fleet-sim.js')).fleetSimCommand(args, io),
  regency: async (args, io) =>
    (await import('./cli/regency.js')).regencyCommand(args, io, { onLogger: (l) => (daemonLog = l) }),
};

/** The only place that decides the exit code and calls process.exit. */
async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--version' || name === '-V' || name === 'version') {
    const v = (await import('./version.js')).buildInfo();
    processIo.out(`kampung-gw ${v.version} (commit ${v.commit}, node ${v.node}, ${v.arch})\n`);
    return 0;
  }
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    (name ? processIo.out : processIo.err)(USAGE);
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    processIo.err(`unknown command: ${name}\n\n${USAGE}`);
    return 2;
  }
  try {
    // fleet-sim, demo and upgrade parse their own flags (src/cli/fleet-sim.ts, demo.ts, upgrade.ts).
    const args =
      name === 'fleet-sim' || name === 'demo' || name === 'upgrade'
        ? { json: false, help: false, positionals: rest }
        : parseCommon(rest);
    if (args.help) {
      processIo.out(USAGE);
      return 0;
    }
    return await command(args, processIo);
  } catch (err) {
    if (isGwError(err, 'GW_ERR_USAGE')) {
      processIo.err(`${err.message}\n\n${USAGE}`);
      return 2;
    }
    if (isGwError(err, 'GW_ERR_CONFIG_INVALID')) {
      const issues = (err.details?.issues ?? []) as ConfigIssue[];
      processIo.err(formatIssues(String(err.message.replace(/^invalid config /, '')), issues));
      return 1;
    }
    if (isGwError(err)) {
      processIo.err(`${err.code}: ${err.message}${err.cause ? ` (${(err.cause as Error).message})` : ''}`);
      return 1;
    }
    throw err;
  }
}

function crash(kind: string, err: unknown): void {
  // An unexpected error leaves the process in an unknown state: log it and exit non-zero
  // so systemd restarts a clean process (Restart=on-failure).
  if (daemonLog) daemonLog.fatal({ err }, kind);
  else process.stderr.write(`${kind}: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(70);
}
process.on('uncaughtException', (err) => crash('uncaught exception', err));
process.on('unhandledRejection', (err) => crash('unhandled rejection', err));

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => crash('fatal error', err),
);
