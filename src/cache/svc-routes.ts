import type { OutgoingHttpHeaders } from 'node:http';
import { type FastifyPluginAsyncTypebox, Type } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { GwError } from '../core/errors.js';
import { looksLikeNik } from '../core/nik.js';
import { reusedHeaders } from './cache-policy.js';
import type { CacheService } from './cache-service.js';
import { FileBody } from './file-body.js';
import { notModified, rangeFor } from './kiosk-conditionals.js';
import type { WriteMethod } from './outbound-queue.js';
import { appendVia, forwardHeaders } from './proxy-headers.js';
import type { SvcResult } from './read-through.js';
import { SvcHits } from './svc-hits.js';
import type { UpstreamResponse } from './upstream-client.js';
import type { Upstream } from './upstreams.js';

export interface SvcRoutesOptions {
  cache: CacheService;
  /** Shared with the fast path (module.ts); its own when absent (tests that only inject). */
  hits?: SvcHits;
}

const ErrorReply = Type.Object({ error: Type.String(), message: Type.String() });
const Params = Type.Object({
  upstream: Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,31}$' }),
  '*': Type.String({ maxLength: 2048 }),
});
const QueuedReply = Type.Object({
  id: Type.String(),
  state: Type.Union([Type.Literal('queued'), Type.Literal('delivered'), Type.Literal('failed')]),
  location: Type.String(),
});
/** Upstream bodies are relayed byte for byte (Buffers skip serialization); errors are ours. */
const Relayed = Type.Unknown({ description: 'the upstream body, relayed as is' });
const IdemKey = Type.String({ minLength: 1, maxLength: 200, pattern: '^[\\x21-\\x7e]+$' });

declare module 'fastify' {
  interface FastifyRequest {
    deviceId: string;
  }
}

/** /svc/{upstream}/{path}: cached reads and queued writes for kiosks (device bearer token). */
export const svcRoutes: FastifyPluginAsyncTypebox<SvcRoutesOptions> = async (app, options) => {
  const { cache } = options;
  const hits = options.hits ?? new SvcHits(cache);
  app.decorateRequest('deviceId', '');
  const isoDate = isoMemo();
  const pathOf = (request: FastifyRequest) => hits.pathOf(request.raw.url);
  // No per-request child logger here: /svc never logs per request, and creating a pino child
  // (with redaction) for every cache hit costs more than the hit itself.
  app.setChildLoggerFactory((logger) => logger);
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  // Synchronous hook: no promise per request on the cache-hit path. A request the fast path
  // (svc-hits.ts) looked at and left here keeps the verdict it got there: a wrong token counts once.
  app.addHook('onRequest', (request, _reply, done) => {
    const seen = hits.authSeen(request.raw);
    if (seen ? seen.blocked : cache.auth.blocked(request.ip)) return done(new GwError('GW_ERR_RATE_LIMITED'));
    const id = seen ? seen.deviceId : cache.auth.authenticate(request.headers.authorization, request.ip);
    if (!id) return done(new GwError('GW_ERR_UNAUTHORIZED', 'a valid device bearer token is required'));
    request.deviceId = id;
    done();
  });

  const upstreamOf = (name: string): Upstream => {
    const up = cache.upstreams.get(name);
    if (!up) throw new GwError('GW_ERR_NOT_FOUND', `no upstream named ${name}`);
    return up;
  };

  const hitHeaders = hits.hitHeaders;
  /** Everything but a plain fresh in-memory hit: may read disk or call the upstream. */
  const readThrough = async (request: FastifyRequest, reply: FastifyReply, up: Upstream, path: string) => {
    // Also on errors (504): every /svc answer says where it came from.
    reply.header('x-cache', 'MISS').header('age', '0');
    const result = await cache.reads.get(up, path, forwardHeaders(request.headers, true), request.headers);
    return sendResult(request, reply, result, isoDate);
  };

  app.get(
    '/svc/:upstream/*',
    {
      schema: {
        params: Params,
        response: { 200: Relayed, '2xx': Relayed, '3xx': Relayed, '4xx': Relayed, '5xx': Relayed },
      },
    },
    // Not async: a fresh in-memory hit is answered in this call, with no promise, no header
    // re-assembly and no trip through fastify's send (HEAD: node writes the headers only).
    (request, reply) => {
      const up = upstreamOf(request.params.upstream);
      const path = pathOf(request);
      const h = request.headers;
      // Request directives, conditionals and ranges take the general path (one branch each here).
      const plain =
        h['cache-control'] === undefined &&
        h.pragma === undefined &&
        h['if-none-match'] === undefined &&
        h['if-modified-since'] === undefined &&
        h.range === undefined;
      const hit = plain ? cache.reads.hotHit(up, path, h) : undefined;
      if (!hit) return readThrough(request, reply, up, path);
      const { entry, body, ageS } = hit;
      // 204s keep the general path (bodiless rules), so do headers node would refuse (the
      // error handler must still be able to answer).
      const headers = entry.status !== 204 ? hitHeaders.for(entry, ageS) : undefined;
      if (!headers) {
        const r: SvcResult = { ...entry, headers: reusedHeaders(entry.headers), body, cache: 'HIT', ageS };
        return sendResult(request, reply, r, isoDate);
      }
      reply.hijack();
      reply.raw.writeHead(entry.status, headers);
      reply.raw.end(body);
      return undefined;
    },
  );

  /** POST, PUT, PATCH, DELETE: forwarded; queued while the upstream is unreachable where offline_writes allows. */
  const write = async (
    request: FastifyRequest<{ Params: { upstream: string; '*': string } }>,
    reply: FastifyReply,
  ) => {
    const up = upstreamOf(request.params.upstream);
    const raw = request.headers['idempotency-key'];
    const idemKey = typeof raw === 'string' ? raw : undefined;
    // A queued write is re-sent until it is answered: without a key the upstream could apply
    // it twice. Asked always (not only while offline), or a kiosk that forgets it would work
    // for months and fail at the first outage. Where writes are never queued it is optional.
    if (up.config.offline_writes && idemKey === undefined)
      throw new GwError(
        'GW_ERR_IDEMPOTENCY_KEY_REQUIRED',
        'an Idempotency-Key header (1-200 visible ASCII) is required',
      );
    // The key is stored with a queued write and sent upstream: no NIK in it either.
    if (idemKey !== undefined && looksLikeNik(idemKey)) throw new GwError('GW_ERR_PII_REFUSED');
    const out = await cache.writes.submit({
      up,
      method: request.method as WriteMethod,
      pathAndQuery: pathOf(request),
      headers: forwardHeaders(request.headers),
      idemKey,
      body: Buffer.isBuffer(request.body) ? request.body : undefined,
      deviceId: request.deviceId,
    });
    if (out.kind === 'queued') {
      const location = `/api/v1/outbound/${out.id}`;
      return reply.code(202).header('location', location).send({ id: out.id, state: out.state, location });
    }
    return relay(reply, out.response);
  };
  const relayed = { '2xx': Relayed, '3xx': Relayed, '4xx': Relayed, '5xx': Relayed };
  app.route({
    method: ['POST', 'PUT', 'PATCH', 'DELETE'],
    url: '/svc/:upstream/*',
    schema: {
      params: Params,
      headers: Type.Object({ 'idempotency-key': Type.Optional(IdemKey) }),
      response: { 202: QueuedReply, 428: ErrorReply, ...relayed },
    },
    handler: write,
  });
  // OPTIONS passes through: never cached, never queued (a preflight or capability question
  // answered from a queue or a copy would be a lie).
  app.route({
    method: 'OPTIONS',
    url: '/svc/:upstream/*',
    schema: { params: Params, response: relayed },
    handler: async (request, reply) => {
      const up = upstreamOf(request.params.upstream);
      const res = await cache.pass(
        up,
        'OPTIONS',
        pathOf(request),
        forwardHeaders(request.headers),
        bodyOf(request),
      );
      return relay(reply, res);
    },
  });
};

/** An upstream answer relayed as received (minus hop-by-hop, see proxy-headers.ts), Via appended. */
function relay(reply: FastifyReply, res: UpstreamResponse) {
  return reply
    .code(res.status)
    .headers(res.headers)
    .header('via', appendVia(res.headers.via))
    .header('content-length', res.body.length)
    .send(res.body);
}

function bodyOf(request: FastifyRequest): Buffer | undefined {
  return Buffer.isBuffer(request.body) ? request.body : undefined;
}

/** Hits repeat the same few data dates: a one-slot memo per plugin instance skips re-formatting. */
function isoMemo(): (ms: number) => string {
  let last = Number.NaN;
  let iso = '';
  return (ms) => {
    if (ms !== last) {
      last = ms;
      iso = new Date(ms).toISOString();
    }
    return iso;
  };
}

function sendResult(
  request: FastifyRequest,
  reply: FastifyReply,
  r: SvcResult,
  isoDate: (ms: number) => string,
) {
  reply
    .code(r.status)
    .headers(r.headers)
    .header('via', appendVia(r.headers.via))
    .header('x-cache', r.cache)
    .header('age', String(r.ageS))
    .header('x-data-date', isoDate(r.dataDate));
  if (r.staleReason) {
    reply.header('x-stale-reason', r.staleReason);
    // The one answer that goes against the upstream's own headers says so, in the words every
    // HTTP stack still understands (RFC 7234's Warning 110; obsoleted by RFC 9111, not harmful).
    if (r.staleReason === 'serve_stale=always')
      reply.header('warning', '110 kampung-gw "Response is Stale" (serve_stale: always)');
  }
  const h = request.headers;
  // Conditionals and Range are answered here, from a complete response (stored or just fetched).
  const close = () => {
    // A streamed body that is not sent: close its file.
    if (!Buffer.isBuffer(r.body)) r.body.destroy();
  };
  if (notModified(h, r.status, r.headers)) {
    close();
    return reply.code(304).send();
  }
  if (r.range) {
    reply.code(206).header('content-range', `bytes ${r.range.start}-${r.range.end}/${r.range.total}`);
    if (r.body instanceof FileBody) return sendFile(request, reply, r.body, r.size);
    return reply.header('content-length', r.size).send(r.body);
  }
  const range = rangeFor(h, r.status, r.headers, r.size);
  if (range === 'unsatisfiable') {
    close();
    return reply.code(416).header('content-range', `bytes */${r.size}`).header('content-length', 0).send();
  }
  if (range && Buffer.isBuffer(r.body)) {
    return reply
      .code(206)
      .header('content-range', `bytes ${range.start}-${range.end}/${r.size}`)
      .header('content-length', range.end - range.start + 1)
      .send(r.body.subarray(range.start, range.end + 1));
  }
  if (r.body instanceof FileBody) return sendFile(request, reply, r.body, r.size);
  return reply.header('content-length', r.size).send(r.body);
}

/**
 * A stored body file goes out through FileBody's buffer pool, not fastify's stream piping (see
 * file-body.ts): the reply is taken over once its status and headers are set. HEAD: headers only.
 */
function sendFile(request: FastifyRequest, reply: FastifyReply, body: FileBody, length: number) {
  reply.header('content-length', length);
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(reply.statusCode, reply.getHeaders() as OutgoingHttpHeaders);
  if (request.method === 'HEAD') {
    raw.end();
    body.destroy();
    return undefined;
  }
  return body.pumpTo(raw).catch((err: unknown) => {
    raw.destroy(err as Error);
  });
}
