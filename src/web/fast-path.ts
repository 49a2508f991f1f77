import {
  createServer,
  type IncomingMessage,
  type Server,
  type ServerOptions,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer, type ServerOptions as HttpsOptions } from 'node:https';
import type { FastifyServerFactory } from 'fastify';
import type { Logger } from '../core/logger.js';

/**
 * Answers one kind of request from the raw node request, before fastify routes it, and
 * returns true; or returns false having written nothing, and fastify handles the request as
 * if the fast path did not exist. For the few answers whose cost is fastify's own (the /svc
 * cache hit: cache/svc-hits.ts); everything it does not answer keeps fastify's hooks, schemas
 * and error handler. `inject()` bypasses it (it calls fastify's handler directly), and so
 * does what a fast path answers bypass every fastify hook: a root-level hook added later (a
 * request counter, an access log) does not see those answers unless the fast path does it too.
 */
export type FastPath = (req: IncomingMessage, res: ServerResponse) => boolean;

/** The options fastify hands a server factory that this one reads (all of fastify's own, filled in). */
interface FactoryOptions {
  http?: ServerOptions;
  https?: HttpsOptions | null;
  keepAliveTimeout?: number;
  requestTimeout?: number;
  connectionTimeout?: number;
  maxRequestsPerSocket?: number | null;
}

/**
 * A server factory for fastify that offers each request to the fast paths first. While the app
 * closes, every request goes to fastify (which answers 503 and closes the connection). The
 * server is set up as fastify's own factory sets up an HTTP/1 server (fastify lib/server.js:
 * the `http` options for plain HTTP only, then the three timeouts).
 */
export function fastPathServer(
  paths: readonly FastPath[],
  closing: () => boolean,
  log: Logger,
): FastifyServerFactory {
  return (handler, options) => {
    const onRequest = (req: IncomingMessage, res: ServerResponse) => {
      if (!closing()) {
        try {
          for (const answer of paths) if (answer(req, res)) return;
        } catch (err) {
          // A throw in a 'request' listener would end the process; fastify catches its routes'
          // errors. So: logged, and fastify answers (its error handler, as without the fast
          // path), unless the answer had begun, which can only be cut.
          log.error({ err, url: req.url }, 'fast path failed');
          if (res.headersSent || res.writableEnded) {
            res.destroy();
            return;
          }
        }
      }
      handler(req, res);
    };
    const opts = options as FactoryOptions;
    const server: Server = opts.https
      ? createHttpsServer(opts.https, onRequest)
      : createServer(opts.http ?? {}, onRequest);
    server.keepAliveTimeout = opts.keepAliveTimeout ?? 72_000;
    server.requestTimeout = opts.requestTimeout ?? 0;
    server.setTimeout(opts.connectionTimeout ?? 0);
    if ((opts.maxRequestsPerSocket ?? 0) > 0) server.maxRequestsPerSocket = opts.maxRequestsPerSocket ?? null;
    return server;
  };
}
