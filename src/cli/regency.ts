import { pino } from 'pino';
import { SystemClock } from '../core/clock.js';
import { GwError } from '../core/errors.js';
import { createLogger, type Logger } from '../core/logger.js';
import { DEFAULT_ROLE, isRole, ROLES, type Role } from '../regency/auth/roles.js';
import { loadRegencyConfig, resolveRegencyConfigPath } from '../regency/config.js';
import type { RegencyConfig } from '../regency/config-schema.js';
import { wallSilence } from '../regency/fleet.js';
import { formatRegencyStatus, readRegencyStatus } from '../regency/status.js';
import { AccountsRepo } from '../regency/store/accounts-repo.js';
import { type OpenedDb, openRegencyDb } from '../regency/store/open-db.js';
import { ReadRepo } from '../regency/store/read-repo.js';
import { VillageRegistry } from '../regency/villages.js';
import type { CommonArgs } from './args.js';
import type { CliIo } from './io.js';
import { readPassword } from './read-password.js';

export interface RegencyHooks {
  onLogger?(log: Logger): void;
}

/** `kampung-gw regency SUB ...`: dispatch to the regency's own commands. */
export async function regencyCommand(args: CommonArgs, io: CliIo, hooks: RegencyHooks = {}): Promise<number> {
  const [sub, ...rest] = args.positionals;
  const sa = { ...args, positionals: rest };
  if (sub === 'run') return runRegency(sa, io, hooks);
  if (sub === 'status') return withStore(sa, io, (c, db) => status(c, db, sa, io));
  if (sub === 'user') return withStore(sa, io, (_c, db) => user(db, sa, io));
  if (sub === 'provision' || sub === 'revoke' || sub === 'confirm') {
    const { provisionCommand, revokeCommand, confirmCommand } = await import('./regency-provision.js');
    const fn = sub === 'provision' ? provisionCommand : sub === 'revoke' ? revokeCommand : confirmCommand;
    return withStore(sa, io, (c, db) => fn(c, db, sa, io));
  }
  throw new GwError(
    'GW_ERR_USAGE',
    sub
      ? `unknown regency command: ${sub}`
      : 'usage: kampung-gw regency run|status|user|provision|confirm|revoke',
  );
}

async function runRegency(args: CommonArgs, io: CliIo, hooks: RegencyHooks): Promise<number> {
  if (args.positionals.length > 0)
    throw new GwError('GW_ERR_USAGE', 'usage: kampung-gw regency run [--config F]');
  const { config, file } = loadRegencyConfig(resolveRegencyConfigPath(args.config, io.env));
  const log = createLogger({
    level: config.log_level,
    base: { regency: config.regency.name },
    destination: pino.destination({ dest: 1, sync: true }),
  });
  hooks.onLogger?.(log);
  const { RegencyApp } = await import('../regency/regency-app.js');
  const app = new RegencyApp({
    config,
    log,
    clock: new SystemClock(),
    ...(io.stdoutIsTTY
      ? {
          showSetupCode: (code: string, file: string) =>
            io.out(
              `Kode penyiapan (one-time setup code): ${code} — juga di ${file} / also in ${file}; ` +
                'buka halaman regensi dan buat akun pertama / open the fleet page and create the first account',
            ),
        }
      : {}),
  });
  const stopRequested = new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  try {
    await app.start();
  } catch (err) {
    log.fatal({ err }, 'start failed');
    await app.stop();
    return 1;
  }
  log.info({ config: file }, 'kampung-regency running');
  const signal = await stopRequested;
  log.info({ signal }, 'stopping');
  const failed = await app.stop();
  log.info({ failed }, 'stopped');
  return 0;
}

async function withStore(
  args: CommonArgs,
  io: CliIo,
  fn: (config: RegencyConfig, db: OpenedDb) => Promise<number>,
): Promise<number> {
  const { config } = loadRegencyConfig(resolveRegencyConfigPath(args.config, io.env));
  const log = createLogger({ level: 'warn', destination: pino.destination({ dest: 2, sync: true }) });
  const opened = await openRegencyDb(config, log);
  try {
    return await fn(config, opened);
  } finally {
    await opened.db.destroy();
  }
}

async function status(config: RegencyConfig, opened: OpenedDb, args: CommonArgs, io: CliIo): Promise<number> {
  const registry = VillageRegistry.load(config.regency.villages_file);
  const s = await readRegencyStatus(
    new ReadRepo({ db: opened.db }),
    registry,
    wallSilence(new SystemClock(), config.silent_after_s),
  );
  io.out(args.json ? JSON.stringify(s, null, 2) : formatRegencyStatus(config.regency.name, s, opened.where));
  return 0;
}

async function user(opened: OpenedDb, args: CommonArgs, io: CliIo): Promise<number> {
  const [sub, name, ...extra] = args.positionals;
  const usage = `usage: kampung-gw regency user add NAME [--role ${ROLES.join('|')}] | passwd|remove NAME | role NAME ROLE [--config F]`;
  const roleArg = sub === 'role' ? extra.shift() : args.role;
  if (!sub || !['add', 'passwd', 'remove', 'role'].includes(sub) || !name || extra.length > 0)
    throw new GwError('GW_ERR_USAGE', usage);
  if ((args.role !== undefined && sub !== 'add') || (sub === 'role' && roleArg === undefined))
    throw new GwError('GW_ERR_USAGE', usage);
  if (roleArg !== undefined && !isRole(roleArg)) {
    io.err(`role must be one of ${ROLES.join(', ')}`);
    return 1;
  }
  const accounts = new AccountsRepo({ db: opened.db });
  try {
    if (sub === 'role') {
      const before = await accounts.roleOf(name);
      await accounts.setRole(name, roleArg as Role, Date.now());
      io.out(`role of ${name}: ${before ?? '?'} → ${roleArg}`);
      return 0;
    }
    if (sub === 'remove') {
      await accounts.remove(name);
      io.out(`account ${name} removed`);
      return 0;
    }
    if (sub === 'add' && (await accounts.exists(name))) {
      io.err(`account ${name} already exists (use: kampung-gw regency user passwd ${name})`);
      return 1;
    }
    const password = await readPassword(io, `Kata sandi / password for ${name}: `);
    if (io.stdin.isTTY && (await readPassword(io, 'Ulangi / repeat: ')) !== password) {
      io.err('passwords differ; nothing changed');
      return 1;
    }
    const role = (roleArg as Role | undefined) ?? DEFAULT_ROLE;
    if (sub === 'add') await accounts.add(name, password, Date.now(), role);
    else await accounts.setPassword(name, password, Date.now());
    io.out(sub === 'add' ? `account ${name} added (${role})` : `password of ${name} changed`);
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
  }
}
