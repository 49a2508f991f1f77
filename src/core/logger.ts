import { type DestinationStream, type Logger as PinoLogger, pino } from 'pino';

export type Logger = PinoLogger;
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * Paths whose values never reach a log line. Secrets are read from files and should not be
 * logged at all; this is the second line of defence for objects logged whole.
 */
export const REDACT_PATHS = [
  'password',
  'token',
  'secret',
  'authorization',
  'cookie',
  '*.password',
  '*.token',
  '*.secret',
  '*.authorization',
  '*.cookie',
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-csrf-token"]',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  'body',
  'req.body',
];

/** One root logger per process; every component takes `log.child({ component })`. */
export function createLogger(options: {
  level: LogLevel;
  destination?: DestinationStream;
  base?: object;
}): Logger {
  return pino(
    {
      level: options.level,
      base: { ...options.base },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    // Synchronous stdout: a crash or kill never loses the lines that explain it.
    options.destination ?? pino.destination({ dest: 1, sync: true }),
  );
}
