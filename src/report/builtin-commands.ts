import type { Config } from '../config/schema.js';
import { LOG_LEVELS, type Logger, type LogLevel } from '../core/logger.js';
import type { Scheduler } from '../core/scheduler.js';
import { CommandError, type CommandRegistry } from './commands.js';

/** What other modules lend the built-in commands; a missing one answers `not_available`. */
export interface CommandHooks {
  /** Runs the named uplink/device probe once (uplink module). */
  runProbe?(name: string): Promise<unknown>;
  /** Runs the whole link ladder now (uplink module). */
  diagnose?(): Promise<unknown>;
  /** Re-fetches the cache's prefetch lists now (cache module). */
  refreshCache?(): Promise<unknown>;
}

export interface BuiltinDeps {
  config: Config;
  rootLog: Logger;
  scheduler: Scheduler;
  hooks: CommandHooks;
  flushOutbox(): unknown;
}

const SECRET_KEY = /(password|passwd|secret|token|credential|private|key)$/i;
const MAX_LEVEL_EXPIRY_S = 24 * 3600;

/** The config with every secret-looking value removed; `*_file` paths and username stay. */
export function redactConfig(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(redactConfig);
  if (node === null || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) {
    if (!k.endsWith('_file') && SECRET_KEY.test(k)) continue;
    out[k] = redactConfig(v);
  }
  return out;
}

function need<T>(hook: T | undefined, what: string): T {
  if (!hook) throw new CommandError('not_available', `${what} is not available on this build`);
  return hook;
}

export function registerBuiltins(reg: CommandRegistry, d: BuiltinDeps): { stop(): void } {
  let revert: { cancel(): void } | undefined;
  const configured = d.config.log_level;

  reg.register('ping', async (args) => {
    const probe = args.probe;
    if (typeof probe !== 'string' || !/^[A-Za-z0-9_.-]{1,64}$/.test(probe))
      throw new CommandError('bad_args', 'args.probe must name a configured probe');
    const known = d.config.uplink.probes.some((p) => p.name === probe);
    if (!known) throw new CommandError('bad_args', `no configured probe named ${probe}`);
    return need(d.hooks.runProbe, 'ping')(probe);
  });
  reg.register('diagnose', () => need(d.hooks.diagnose, 'diagnose')());
  reg.register('refresh-cache', () => need(d.hooks.refreshCache, 'refresh-cache')());
  reg.register('flush-outbox', () => d.flushOutbox());
  reg.register('get-config', () => redactConfig(d.config));
  reg.register('set-log-level', (args) => {
    const level = args.level;
    if (typeof level !== 'string' || !(LOG_LEVELS as readonly string[]).includes(level))
      throw new CommandError('bad_args', `args.level must be one of ${LOG_LEVELS.join(', ')}`);
    const expires = args.expires_s ?? 3600;
    if (
      typeof expires !== 'number' ||
      !Number.isInteger(expires) ||
      expires < 1 ||
      expires > MAX_LEVEL_EXPIRY_S
    )
      throw new CommandError('bad_args', `args.expires_s must be an integer 1..${MAX_LEVEL_EXPIRY_S}`);
    revert?.cancel();
    d.rootLog.level = level as LogLevel;
    // Timers run on the monotonic clock, so a wall-clock jump neither shortens nor extends this.
    revert = d.scheduler.after('log-level-expiry', expires * 1000, () => {
      d.rootLog.level = configured;
      d.rootLog.info({ level: configured }, 'log level restored');
    });
    d.rootLog.info({ level, expires_s: expires }, 'log level changed by remote command');
    return { level, expires_s: expires, restores_to: configured };
  });
  return { stop: () => revert?.cancel() };
}
