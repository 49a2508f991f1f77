/**
 * The one catalogue of error codes. Tests and callers match on `code`, never on message text
 * (the same idea as fastify's FST_ERR_* codes). Messages are English for logs; user-facing
 * translations live with the web page.
 */
export const ErrorCodes = {
  GW_ERR_USAGE: 'command line usage error',
  GW_ERR_CONFIG_NOT_FOUND: 'config file not found or unreadable',
  GW_ERR_CONFIG_PARSE: 'config file is not valid YAML',
  GW_ERR_CONFIG_INVALID: 'config file does not match the schema',
  GW_ERR_SECRET_UNREADABLE: 'a secret file could not be read',
  GW_ERR_NO_SETUP_CODE: 'no one-time setup code is pending',
  GW_ERR_SETUP_CODE_UNREADABLE: 'the setup code file exists but this user may not read it',
  GW_ERR_STORE_OPEN: 'the database could not be opened',
  GW_ERR_STORE_MIGRATION: 'a database migration failed',
  GW_ERR_STORE_FULL: 'the disk is full; the write was refused',
  GW_ERR_SERVICE_START: 'a service failed to start',
  GW_ERR_SERVICE_STOP_TIMEOUT: 'a service did not stop in time',
  GW_ERR_PROBE_BROKEN: 'a probe could not run at all',
  GW_ERR_TASK_TIMEOUT: 'a scheduled task exceeded its deadline',
  GW_ERR_VALIDATION: 'the request does not match its schema',
  GW_ERR_NOT_FOUND: 'no such route or resource',
  GW_ERR_BODY_TOO_LARGE: 'the request body is larger than 256 KiB',
  GW_ERR_UNSUPPORTED_MEDIA: 'unsupported content type',
  GW_ERR_HEADERS_TOO_LARGE: 'the request headers are larger than the server accepts',
  GW_ERR_REQUEST_TIMEOUT: 'the request did not arrive in time',
  GW_ERR_UNAUTHORIZED: 'authentication required',
  GW_ERR_FORBIDDEN: 'not allowed',
  GW_ERR_RATE_LIMITED: 'too many attempts; try again later',
  GW_ERR_CONFLICT: 'already exists',
  GW_ERR_TOO_MANY_CLIENTS: 'too many live connections',
  GW_ERR_PII_REFUSED: 'the request contains what looks like a NIK/KK number',
  GW_ERR_UNAVAILABLE: 'temporarily unavailable',
  GW_ERR_INTERNAL: 'internal error',
  GW_ERR_UPSTREAM_UNAVAILABLE: 'the upstream service is unreachable and nothing usable is cached',
  GW_ERR_UPSTREAM_BAD_RESPONSE: 'the upstream service sent a response that cannot be relayed',
  GW_ERR_IDEMPOTENCY_KEY_REQUIRED: 'writes to /svc need an Idempotency-Key header',
  GW_ERR_QUEUE_FULL: 'the offline write queue is full',
  GW_ERR_COMMAND_TIMEOUT: 'the village did not answer the command in time',
  GW_ERR_CODE_USED: 'this one-time code was already used; ask for a new one',
  GW_ERR_CODE_EXPIRED: 'this one-time code has expired; ask for a new one',
  GW_ERR_NOT_CACHED: 'only-if-cached was asked and nothing stored satisfies the request',
  GW_ERR_BUNDLE_REFUSED: 'the release bundle is damaged, altered, badly signed or not for this box',
  GW_ERR_UPGRADE_BUSY: 'another upgrade is running',
  GW_ERR_UPGRADE_FAILED: 'the upgrade could not be done; the box runs the version before',
  GW_ERR_BROKER_RELOAD: 'the broker files were written but the reload command failed',
  GW_ERR_NOTHING_PENDING: 'this village has no rotation awaiting confirmation',
  GW_ERR_PROVISION_BUSY: 'another provisioning run holds the output folder; try again when it ends',
  GW_ERR_UPGRADE_STUCK: 'the upgrade was rolled back but the old version is not healthy either',
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

/** The HTTP status each code answers with when it reaches a client. */
export const HTTP_STATUS: Partial<Record<ErrorCode, number>> = {
  GW_ERR_VALIDATION: 400,
  GW_ERR_UNAUTHORIZED: 401,
  GW_ERR_FORBIDDEN: 403,
  GW_ERR_NOT_FOUND: 404,
  GW_ERR_CONFLICT: 409,
  GW_ERR_CODE_USED: 410,
  GW_ERR_CODE_EXPIRED: 410,
  GW_ERR_REQUEST_TIMEOUT: 408,
  GW_ERR_BODY_TOO_LARGE: 413,
  GW_ERR_UNSUPPORTED_MEDIA: 415,
  GW_ERR_PII_REFUSED: 422,
  GW_ERR_IDEMPOTENCY_KEY_REQUIRED: 428,
  GW_ERR_RATE_LIMITED: 429,
  GW_ERR_HEADERS_TOO_LARGE: 431,
  GW_ERR_INTERNAL: 500,
  GW_ERR_UNAVAILABLE: 503,
  GW_ERR_TOO_MANY_CLIENTS: 503,
  GW_ERR_STORE_FULL: 507,
  GW_ERR_UPSTREAM_BAD_RESPONSE: 502,
  GW_ERR_UPSTREAM_UNAVAILABLE: 504,
  GW_ERR_QUEUE_FULL: 507,
  GW_ERR_COMMAND_TIMEOUT: 504,
  GW_ERR_NOT_CACHED: 504,
};

export class GwError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(
    code: ErrorCode,
    message?: string,
    options?: { cause?: unknown; details?: Record<string, unknown> },
  ) {
    super(message ?? ErrorCodes[code], options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GwError';
    this.code = code;
    this.details = options?.details;
  }
}

export function isGwError(err: unknown, code?: ErrorCode): err is GwError {
  return err instanceof GwError && (code === undefined || err.code === code);
}

/** SQLite reports a full disk as SQLITE_FULL (and sometimes SQLITE_IOERR_WRITE with ENOSPC). */
export function isDiskFull(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'SQLITE_FULL' || code === 'ENOSPC' || code === 'SQLITE_IOERR_WRITE';
}
