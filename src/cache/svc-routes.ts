import { type FastifyPluginAsyncTypebox, Type } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { GwError } from '../core/errors.js';
import { looksLikeNik } from '../core/nik.js';
import type { CacheService } from './cache-service.js';
import { HitHeaders } from './hit-headers.js';
import type { SvcResult } from './read-through.js';
import { normalizeSvcPath } from './svc-path.js';
import { forwardHeaders, type Upstream } from './upstreams.js';

export interface SvcRoutesOptions {
  cache: CacheService;
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
export const svcRoutes: FastifyPluginAsyncTypebox<SvcRoutesOptions> = async (app, { cache }) => {
  app.decorateRequest('deviceId', '');
  const isoDate = isoMemo();
  // No per-request child logger here: /svc never logs per request, and creating a pino child
  // (with redaction) for every cache hit costs more than the hit itself.
  app.setChildLoggerFactory((logger) => logger);
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  // Synchronous hook: no promise per request on the cache-hit path.
  app.addHook('onRequest', (request, _reply, done) => {
    if (cache.auth.blocked(request.ip)) return done(new GwError('GW_ERR_RATE_LIMITED'));
    const id = cache.auth.authenticate(request.headers.authorization, request.ip);
    if (!id) return done(new GwError('GW_ERR_UNAUTHORIZED', 'a valid device bearer token is required'));
    request.deviceId = id;
    done();
  });

  const upstreamOf = (name: string): Upstream => {
    const up = cache.upstreams.get(name);
    if (!up) throw new GwError('GW_ERR_NOT_FOUND', `no upstream named ${name}`);
    return up;
  };

  const hitHeaders = new HitHeaders();
  /** Everything but a plain fresh in-memory hit: may read disk or call the upstream. */
  const readThrough = async (request: FastifyRequest, reply: FastifyReply, up: Upstream, path: string) => {
    // Also on errors (504): every /svc answer says where it came from.
    reply.header('x-cache', 'MISS').header('age', '0');
    const h = request.headers;
    const result = await cache.reads.get(up, path, forwardHeaders(h), {
      'cache-control': str(h['cache-control']),
      pragma: str(h.pragma),
    });
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
      const hit = cache.reads.hotHit(up, path, forwardHeaders(h), h);
      if (!hit) return readThrough(request, reply, up, path);
      const { entry, body, ageS } = hit;
      // Conditional requests and 204s keep the general path (304 / bodiless rules), so do
      // headers node would refuse (the error handler must still be able to answer).
      const headers =
        h['if-none-match'] === undefined && entry.status !== 204 ? hitHeaders.for(entry, ageS) : undefined;
      if (!headers) {
        const r: SvcResult = { ...entry, body, cache: 'HIT', ageS };
        return sendResult(request, reply, r, isoDate);
      }
      reply.hijack();
      reply.raw.writeHead(entry.status, headers);
      reply.raw.end(body);
      return undefined;
    },
  );

  const write = async (
    request: FastifyRequest<{ Params: { upstream: string; '*': string } }>,
    reply: FastifyReply,
  ) => {
    const up = upstreamOf(request.params.upstream);
    const idemKey = request.headers['idempotency-key'];
    if (typeof idemKey !== 'string' || !/^[\x21-\x7e]{1,200}$/.test(idemKey))
      throw new GwError(
        'GW_ERR_IDEMPOTENCY_KEY_REQUIRED',
        'an Idempotency-Key header (1-200 visible ASCII) is required',
      );
    // The key is stored with a queued write and sent upstream: no NIK in it either.
    if (looksLikeNik(idemKey)) throw new GwError('GW_ERR_PII_REFUSED');
    const out = await cache.writes.submit({
      up,
      method: request.method as 'POST' | 'PUT',
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
    const { status, headers, body } = out.response;
    return reply.code(status).headers(headers).header('content-length', body.length).send(body);
  };
  const writeSchema = {
    params: Params,
    headers: Type.Object({ 'idempotency-key': Type.Optional(IdemKey) }),
    response: {
      202: QueuedReply,
      428: ErrorReply,
      '2xx': Relayed,
      '3xx': Relayed,
      '4xx': Relayed,
      '5xx': Relayed,
    },
  };
  app.post('/svc/:upstream/*', { schema: writeSchema }, write);
  app.put('/svc/:upstream/*', { schema: writeSchema }, write);
};

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
    .header('x-cache', r.cache)
    .header('age', String(r.ageS))
    .header('x-data-date', isoDate(r.dataDate));
  const inm = request.headers['if-none-match'];
  if (r.status === 200 && inm && r.headers.etag && inm.split(',').some((t) => t.trim() === r.headers.etag)) {
    // A streamed body is not sent: close its file.
    if (!Buffer.isBuffer(r.body)) r.body.destroy();
    return reply.code(304).send();
  }
  return reply.header('content-length', r.size).send(r.body);
}

/**
 * The path and query after /svc/{upstream}, normalised (svc-path.ts): the one form never_cache,
 * the cache key and the forwarded URL all use. Cut from the raw URL after the upstream segment,
 * however that segment was spelled (`/svc/%6Cayanan/...` routes to `layanan` too).
 */
function pathOf(request: FastifyRequest): string {
  const url = request.raw.url ?? '/';
  const cut = url.indexOf('/', '/svc/'.length);
  return normalizeSvcPath(cut < 0 ? '/' : url.slice(cut));
}

function str(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v.join(', ') : v;
}
