import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CacheService } from './cache-service.js';
import { HitHeaders } from './hit-headers.js';
import { svcPathMemo } from './svc-path.js';

/** What the fast path learnt of a request's token before leaving the request to fastify. */
export interface AuthSeen {
  /** 429 without looking at the token. */
  blocked: boolean;
  /** The token's device; undefined: refused (401). */
  deviceId: string | undefined;
}

/** Longest URL the fast path takes: the route's `*` param is at most 2048 characters. */
const MAX_URL = 2048;

/**
 * The plain fresh cache hit of GET|HEAD /svc/{upstream}/{path}, answered from the raw node
 * request before fastify routes it (web/fast-path.ts), and the state the /svc routes share with
 * it (path memo, hit headers). A kiosk's hit is the box's hottest request; fastify's routing,
 * request and reply objects, hooks, param validation and response listeners were a quarter of
 * its CPU. Anything but the exact hit is left to fastify, which answers as it always did: a
 * miss, a stale or 204 entry, a body not in memory, request directives, conditionals, Range,
 * a refused token or path, an unknown upstream, a request with a body.
 *
 * What the fast path does is what the route does for the same request, in the same order, with
 * the same parts: the device token (cache.auth, once per request: a failure counts once), the
 * normalised path, the hot lookup, the hit counters, the same header object and body.
 */
export class SvcHits {
  /** The headers of a fresh hit, memoised per entry and second of Age. */
  readonly hitHeaders = new HitHeaders();
  /** Hits answered before fastify (tests check that the fast path is taken). */
  answered = 0;
  private readonly cache: CacheService;
  private readonly normalize = svcPathMemo();
  private readonly seen = new WeakMap<IncomingMessage, AuthSeen>();

  constructor(cache: CacheService) {
    this.cache = cache;
  }

  /**
   * The path and query after /svc/{upstream}, normalised (svc-path.ts): the one form
   * never_cache, the cache key and the forwarded URL all use. Cut from the raw URL after the
   * upstream segment, however that segment was spelled (`/svc/%6Cayanan/...` routes to
   * `layanan` too). Throws GwError for a refused path.
   */
  pathOf(rawUrl: string | undefined): string {
    const url = rawUrl ?? '/';
    const cut = url.indexOf('/', '/svc/'.length);
    return this.normalize(cut < 0 ? '/' : url.slice(cut));
  }

  /** The fast path's token verdict for a request it left to fastify, if it got that far. */
  authSeen(req: IncomingMessage): AuthSeen | undefined {
    return this.seen.get(req);
  }

  /** Answers a plain fresh hit and returns true; else false, having written nothing. */
  readonly fastPath = (req: IncomingMessage, res: ServerResponse): boolean => {
    const url = req.url;
    const method = req.method;
    if (method !== 'GET' && method !== 'HEAD') return false;
    if (url === undefined || url.length > MAX_URL || !url.startsWith('/svc/')) return false;
    const h = req.headers;
    // As the route: directives, conditionals and Range take the general path; so does a body.
    if (
      h['cache-control'] !== undefined ||
      h.pragma !== undefined ||
      h['if-none-match'] !== undefined ||
      h['if-modified-since'] !== undefined ||
      h.range !== undefined ||
      h['content-length'] !== undefined ||
      h['transfer-encoding'] !== undefined
    )
      return false;
    const cut = url.indexOf('/', 5);
    // Only the upstream spelled as configured (fastify decodes `%6C`; the route handles that).
    const up = cut < 0 ? undefined : this.cache.upstreams.get(url.slice(5, cut));
    if (!up) return false;
    let path: string;
    try {
      path = this.pathOf(url);
    } catch {
      // Refused (400/422): the route refuses it again, after the token check, as before.
      return false;
    }
    const source = req.socket.remoteAddress;
    if (source === undefined) return false;
    // The route's onRequest hook, in its order; its verdict is kept for the route to reuse.
    const auth = this.cache.auth;
    if (auth.blocked(source)) {
      this.seen.set(req, { blocked: true, deviceId: undefined });
      return false;
    }
    const deviceId = auth.authenticate(h.authorization, source);
    const hit = deviceId ? this.cache.reads.hotLookup(up, path, h) : undefined;
    // 204s and headers node would refuse keep the general path (see svc-routes.ts).
    const headers = hit && hit.entry.status !== 204 ? this.hitHeaders.for(hit.entry, hit.ageS) : undefined;
    if (!hit || !headers) {
      this.seen.set(req, { blocked: false, deviceId });
      return false;
    }
    this.cache.reads.hotServed(up, hit);
    this.answered++;
    res.writeHead(hit.entry.status, headers);
    res.end(hit.body);
    return true;
  };
}
