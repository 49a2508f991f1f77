import { redactConfig } from '../config/redact.js';
import { LOG_LEVELS, type Logger, type LogLevel } from '../core/logger.js';
import type { Scheduler } from '../core/scheduler.js';
import type { Service } from '../core/service.js';
import type { Operation } from '../modules/operations.js';
import { remoteCommand } from './command-names.js';
import { CommandError } from './commands.js';

export interface LogLevelDeps {
  /** The level the config sets, restored when a remote change expires. */
  configured: LogLevel;
  rootLog: Logger;
  scheduler: Scheduler;
}

const MAX_LEVEL_EXPIRY_S = 24 * 3600;

/** `get-config` (MQTT): the config as it can leave the box. */
export function getConfigOperation(config: unknown): Operation {
  return {
    name: remoteCommand('get-config'),
    mqtt: true,
    description: 'the running config without secrets',
    run: () => redactConfig(config),
  };
}

/**
 * `set-log-level` (MQTT): a temporary log level that restores itself; the service cancels a
 * pending restore when the daemon stops.
 */
export function logLevelOperation(d: LogLevelDeps): { operation: Operation; service: Service } {
  let revert: { cancel(): void } | undefined;
  const configured = d.configured;
  const operation: Operation = {
    name: remoteCommand('set-log-level'),
    mqtt: true,
    description: 'raise or lower the log level for a while (expires_s, default one hour)',
    run: ({ args }) => {
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
    },
  };
  const service: Service = {
    name: 'log-level',
    start: () => undefined,
    stop: () => revert?.cancel(),
  };
  return { operation, service };
}
