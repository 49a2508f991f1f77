import { loadConfig, resolveConfigPath } from '../config/loader.js';
import { SystemClock } from '../core/clock.js';
import { GwError } from '../core/errors.js';
import { createLogger } from '../core/logger.js';
import { Store } from '../store/store.js';
import { AuthService } from '../web/auth/auth-service.js';
import type { CommonArgs } from './args.js';
import type { CliIo } from './io.js';
import { readPassword } from './read-password.js';

const SUBCOMMANDS = ['add', 'passwd', 'remove'] as const;

/**
 * `kampung-gw user add|passwd|remove NAME`: technician accounts, straight in the data dir's
 * database (works while the daemon runs; SQLite WAL serialises the writers). Run it as the
 * service user so new files keep the right owner: `sudo -u kampung-gw kampung-gw user add ana`.
 */
export async function userCommand(args: CommonArgs, io: CliIo): Promise<number> {
  const [sub, name, ...extra] = args.positionals;
  if (!sub || !(SUBCOMMANDS as readonly string[]).includes(sub) || !name || extra.length > 0) {
    throw new GwError('GW_ERR_USAGE', 'usage: kampung-gw user add|passwd|remove NAME [--config F]');
  }
  const { config } = loadConfig(resolveConfigPath(args.config, io.env));
  const log = createLogger({ level: 'warn', destination: process.stderr });
  const clock = new SystemClock();
  const store = new Store({ dataDir: config.data_dir, log, clock });
  store.start();
  const auth = new AuthService({
    store,
    clock,
    log,
    dataDir: config.data_dir,
    idleMs: config.http.session_idle_s * 1000,
    maxMs: config.http.session_max_s * 1000,
  });
  try {
    if (sub === 'remove') {
      auth.removeTechnician(name);
      io.out(`technician ${name} removed`);
      return 0;
    }
    if (sub === 'add' && auth.technicians.byName(name)) {
      io.err(`technician ${name} already exists (use: kampung-gw user passwd ${name})`);
      return 1;
    }
    const password = await readPassword(io, `Kata sandi / password for ${name}: `);
    if (io.stdin.isTTY) {
      const again = await readPassword(io, 'Ulangi / repeat: ');
      if (again !== password) {
        io.err('passwords differ; nothing changed');
        return 1;
      }
    }
    if (sub === 'add') await auth.addTechnician(name, password);
    else await auth.setPassword(name, password);
    io.out(sub === 'add' ? `technician ${name} added` : `password of ${name} changed; sessions ended`);
    return 0;
  } catch (err) {
    if (
      err instanceof GwError &&
      ['GW_ERR_VALIDATION', 'GW_ERR_NOT_FOUND', 'GW_ERR_CONFLICT'].includes(err.code)
    ) {
      io.err(err.message);
      return 1;
    }
    throw err;
  } finally {
    store.stop();
  }
}
