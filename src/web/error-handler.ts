import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type ErrorCode, ErrorCodes, GwError, HTTP_STATUS, isDiskFull } from '../core/errors.js';

export interface ErrorBody {
  error: ErrorCode;
  message: string;
}

/** fastify's own client-error codes, mapped to ours. */
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'GW_ERR_BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'GW_ERR_UNSUPPORTED_MEDIA',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'GW_ERR_VALIDATION',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'GW_ERR_VALIDATION',
  FST_ERR_CTP_INVALID_JSON_BODY: 'GW_ERR_VALIDATION',
  FST_ERR_VALIDATION: 'GW_ERR_VALIDATION',
};

export function toErrorReply(err: unknown): { status: number; body: ErrorBody } {
  if (err instanceof GwError) {
    return { status: HTTP_STATUS[err.code] ?? 500, body: { error: err.code, message: err.message } };
  }
  if (isDiskFull(err)) {
    return { status: 507, body: { error: 'GW_ERR_STORE_FULL', message: ErrorCodes.GW_ERR_STORE_FULL } };
  }
  const fe = err as Partial<FastifyError>;
  if (fe.validation) {
    return { status: 400, body: { error: 'GW_ERR_VALIDATION', message: fe.message ?? 'invalid request' } };
  }
  const mapped = fe.code ? FASTIFY_CODES[fe.code] : undefined;
  if (mapped) {
    const status = HTTP_STATUS[mapped] ?? 400;
    return { status, body: { error: mapped, message: fe.message ?? ErrorCodes[mapped] } };
  }
  // Any other 4xx that fastify or a plugin raised (e.g. a malformed header) stays a 4xx.
  if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) {
    return {
      status: fe.statusCode,
      body: { error: 'GW_ERR_VALIDATION', message: fe.message ?? 'bad request' },
    };
  }
  return { status: 500, body: { error: 'GW_ERR_INTERNAL', message: ErrorCodes.GW_ERR_INTERNAL } };
}

export interface ErrorHandlerHooks {
  /** A request failed because the disk is full (SQLITE_FULL/ENOSPC): tell the disk guard. */
  onDiskFull?(): void;
}

export function installErrorHandlers(app: FastifyInstance, hooks: ErrorHandlerHooks = {}): void {
  app.setErrorHandler((err: unknown, request: FastifyRequest, reply: FastifyReply) => {
    if (isDiskFull(err)) hooks.onDiskFull?.();
    const { status, body } = toErrorReply(err);
    if (status >= 500) request.log.error({ err, url: request.routeOptions.url }, 'request failed');
    else request.log.debug({ code: body.error, url: request.routeOptions.url }, 'request refused');
    return reply.code(status).type('application/json; charset=utf-8').send(body);
  });
  app.setNotFoundHandler((_request, reply) =>
    reply
      .code(404)
      .send({ error: 'GW_ERR_NOT_FOUND', message: ErrorCodes.GW_ERR_NOT_FOUND } satisfies ErrorBody),
  );
}
