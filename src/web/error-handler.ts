import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
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

/**
 * Faults node's HTTP parser answers before fastify sees a request (oversized headers, a
 * socket that sends nothing or half a header until `headersTimeout`, bytes that are not HTTP):
 * the same `{ error, message }` JSON as every other refusal, then the socket is closed.
 */
export function clientErrorHandler(err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const code: ErrorCode =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? 'GW_ERR_HEADERS_TOO_LARGE'
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? 'GW_ERR_REQUEST_TIMEOUT'
        : 'GW_ERR_VALIDATION';
  const status = HTTP_STATUS[code] ?? 400;
  const body = JSON.stringify({ error: code, message: ErrorCodes[code] } satisfies ErrorBody);
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

/**
 * 5xx answers that are expected operating conditions, not bugs: the upstream is down or sent
 * garbage, the store is busy, too many live clients. One info line with the code (no stack:
 * a stack trace was 1.2 KB per request while an upstream was down); everything else is an error.
 */
function isExpected(err: unknown): boolean {
  if (!(err instanceof GwError)) return false;
  const status = HTTP_STATUS[err.code] ?? 500;
  return status === 502 || status === 503 || status === 504;
}

export interface ErrorHandlerHooks {
  /** A request failed because the disk is full (SQLITE_FULL/ENOSPC): tell the disk guard. */
  onDiskFull?(): void;
}

export function installErrorHandlers(app: FastifyInstance, hooks: ErrorHandlerHooks = {}): void {
  app.setErrorHandler((err: unknown, request: FastifyRequest, reply: FastifyReply) => {
    if (isDiskFull(err)) hooks.onDiskFull?.();
    const { status, body } = toErrorReply(err);
    if (status >= 500 && isExpected(err))
      request.log.info({ code: body.error, status, url: request.routeOptions.url }, 'request not served');
    else if (status >= 500) request.log.error({ err, url: request.routeOptions.url }, 'request failed');
    else request.log.debug({ code: body.error, url: request.routeOptions.url }, 'request refused');
    return reply.code(status).type('application/json; charset=utf-8').send(body);
  });
  app.setNotFoundHandler((_request, reply) =>
    reply
      .code(404)
      .send({ error: 'GW_ERR_NOT_FOUND', message: ErrorCodes.GW_ERR_NOT_FOUND } satisfies ErrorBody),
  );
}
