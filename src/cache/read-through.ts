import type { Readable } from 'node:stream';
import type { Clock } from '../core/clock.js';
import { GwError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { freshnessLifetimeS, type HeaderMap, reusedHeaders } from './cache-policy.js';
import type { CacheOutcome, CacheStats } from './cache-stats.js';
import type { CacheStorage, Entry } from './cache-storage.js';
import { type ByteRange, rangeFor } from './kiosk-conditionals.js';
import type { LinkState } from './link-state.js';
import { VIA } from './proxy-headers.js';
import { type RequestDirectives, requestDirectives, reuse, staleOnError } from './reuse-policy.js';
import type { UpstreamClient } from './upstream-client.js';
import { type Failed, type Fetched, UpstreamFetch, upstreamDate } from './upstream-fetch.js';
import type { Upstream } from './upstreams.js';

export interface SvcResult {
  status: number;
  headers: HeaderMap;
  /** The bytes, or (a HIT on a body too large for the hot set) its file, checked, as a stream. */
  body: Buffer | Readable;
  /** Length of body in bytes. */
  size: number;
  cache: CacheOutcome;
  ageS: number;
  /** When the upstream last vouched for this data (ms since epoch). */
  dataDate: number;
  /** The body is this part of the stored representation, already cut (a Range on a streamed body). */
  range?: ByteRange & { total: number };
  /** Why a stale copy was served (the X-Stale-Reason header). */
  staleReason?: string;
}

/** The kiosk's request fields as received (directives, conditionals, Range). */
type RequestFields = Readonly<Record<string, string | string[] | undefined>>;

/** A fresh entry whose body is in memory: answered without I/O or a promise. */
export interface HotHit {
  entry: Entry;
  body: Buffer;
  ageS: number;
}

/**
 * GET through the cache: fresh → HIT from memory/disk; stale or missing → (conditional)
 * request upstream; upstream dead, slow, 5xx or the link verdict down → the stored copy as
 * STALE when its headers allow, else 504. Concurrent identical misses share one upstream call.
 */
export class ReadThrough {
  private readonly storage: CacheStorage;
  private readonly link: LinkState;
  private readonly stats: CacheStats;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly fetcher: UpstreamFetch;
  private readonly inflight = new Map<string, Promise<Fetched>>();

  constructor(deps: {
    storage: CacheStorage;
    client: UpstreamClient;
    link: LinkState;
    stats: CacheStats;
    clock: Clock;
    log: Logger;
  }) {
    this.log = deps.log;
    this.storage = deps.storage;
    this.link = deps.link;
    this.stats = deps.stats;
    this.clock = deps.clock;
    this.fetcher = new UpstreamFetch(deps);
  }

  async get(
    up: Upstream,
    pathAndQuery: string,
    fwd: HeaderMap,
    request: RequestFields = {},
  ): Promise<SvcResult> {
    const key = `${up.name} ${pathAndQuery}`;
    const cacheable = !up.neverCache(pathAndQuery);
    const req = requestDirectives(request);
    let entry = cacheable ? this.storage.lookup(key, fwd) : undefined;
    if (entry) {
      const use = reuse(this.ageS(entry), this.lifetimeS(up, entry), entry.headers, req);
      if (use !== 'validate') {
        const out = await this.fromStore(up, entry, use === 'fresh' ? 'HIT' : 'STALE', request, use);
        if (out) {
          if (use === 'stale-while-revalidate') this.background(up, pathAndQuery, key, fwd, entry);
          return out;
        }
        entry = undefined;
      }
    }
    // RFC 9111 5.2.1.7: never ask the upstream; 504 when nothing stored fits.
    if (req.onlyIfCached)
      throw new GwError('GW_ERR_NOT_CACHED', `nothing stored for ${up.name} satisfies only-if-cached`);
    if (this.link.isDown())
      return this.fallback(up, entry, { kind: 'failed', reason: 'link down' }, request, req);
    const fetched = await this.flight(up, pathAndQuery, key, fwd, entry, cacheable && !req.noStore);
    if (fetched.kind === 'failed') return this.fallback(up, entry, fetched, request, req);
    let out: SvcResult;
    if (fetched.kind === 'file') {
      const stored = fetched.entry;
      const opened = await this.open(stored, request);
      // Evicted or damaged between storing and opening (not seen in practice): no partial answer.
      if (!opened)
        return this.fallback(up, undefined, { kind: 'failed', reason: 'stored body vanished' }, request, req);
      out = {
        status: stored.status,
        headers: stored.headers,
        ...opened,
        cache: fetched.cache,
        ageS: fetched.ageS,
        dataDate: fetched.dataDate,
      };
    } else out = { ...fetched.result };
    this.stats.served(up.name, out.cache, out.cache === 'REVALIDATED' ? out.size : 0);
    return out;
  }

  /**
   * The synchronous hit path: a fresh entry whose body is in the hot set, counted and touched
   * as get() counts a HIT; else undefined, and get() decides (disk read, revalidation,
   * upstream, stale). The caller sends only requests without directives, conditionals or Range.
   */
  hotHit(up: Upstream, pathAndQuery: string, request: RequestFields): HotHit | undefined {
    const hit = this.hotLookup(up, pathAndQuery, request);
    if (hit) this.hotServed(up, hit);
    return hit;
  }

  /**
   * hotHit without counting or touching anything: a caller that may still leave the request
   * to the general path (svc-hits.ts) looks first and calls hotServed once it answers.
   */
  hotLookup(up: Upstream, pathAndQuery: string, request: RequestFields): HotHit | undefined {
    if (up.neverCache(pathAndQuery)) return undefined;
    const entry = this.storage.lookup(`${up.name} ${pathAndQuery}`, request);
    if (!entry) return undefined;
    const ageS = this.ageS(entry);
    if (ageS >= this.lifetimeS(up, entry)) return undefined;
    const body = this.storage.hotBody(entry);
    if (!body) return undefined;
    return { entry, body, ageS };
  }

  /** A hot hit is being answered: touched for the LRU and counted, as get() counts a HIT. */
  hotServed(up: Upstream, hit: HotHit): void {
    this.storage.touch(hit.entry);
    this.stats.served(up.name, 'HIT', hit.body.length);
  }

  /**
   * After an unsafe method succeeded (2xx/3xx): the stored responses for its target and for a
   * Location / Content-Location on the same upstream go (RFC 9111 4.4), every variant.
   */
  invalidate(up: Upstream, pathAndQuery: string, res: { status: number; headers: HeaderMap }): void {
    if (res.status < 200 || res.status >= 400) return;
    const paths = new Set([pathAndQuery]);
    const target = up.url(pathAndQuery);
    for (const name of ['location', 'content-location']) {
      const ref = res.headers[name];
      const p = ref === undefined ? undefined : up.pathOf(ref, target);
      if (p !== undefined) paths.add(p);
    }
    for (const p of paths) this.storage.removeKey(`${up.name} ${p}`);
  }

  linkDown(): boolean {
    return this.link.isDown();
  }

  /** Revalidates or fetches one path for prefetch; reports what happened. */
  async refresh(up: Upstream, pathAndQuery: string): Promise<'fetched' | 'not_modified' | 'failed'> {
    const key = `${up.name} ${pathAndQuery}`;
    const fwd = { via: VIA };
    const out = await this.fetcher.fetch(up, pathAndQuery, key, fwd, this.storage.lookup(key, fwd), true);
    if (out.kind === 'failed') return 'failed';
    const cache = out.kind === 'answer' ? out.result.cache : out.cache;
    if (out.kind === 'answer' && !Buffer.isBuffer(out.result.body)) out.result.body.destroy();
    return cache === 'REVALIDATED' ? 'not_modified' : 'fetched';
  }

  /** Concurrent identical requests share one upstream exchange. */
  private flight(
    up: Upstream,
    pathAndQuery: string,
    key: string,
    fwd: HeaderMap,
    entry: Entry | undefined,
    store: boolean,
  ): Promise<Fetched> {
    const flightKey = `${key}\n${JSON.stringify(fwd)}\n${entry?.id ?? ''}\n${store}`;
    let flight = this.inflight.get(flightKey);
    if (!flight) {
      flight = this.fetcher
        .fetch(up, pathAndQuery, key, fwd, entry, store)
        .finally(() => this.inflight.delete(flightKey));
      this.inflight.set(flightKey, flight);
    }
    return flight;
  }

  /** stale-while-revalidate: the kiosk already has its answer; the revalidation runs on. */
  private background(up: Upstream, pathAndQuery: string, key: string, fwd: HeaderMap, entry: Entry): void {
    if (this.link.isDown()) return;
    this.flight(up, pathAndQuery, key, fwd, entry, true).then(
      (f) => {
        // Nobody reads a streamed body here: close it.
        if (f.kind === 'answer' && !Buffer.isBuffer(f.result.body)) f.result.body.destroy();
      },
      (err: unknown) => this.log.warn({ err, upstream: up.name }, 'background revalidation failed'),
    );
  }

  private async fallback(
    up: Upstream,
    entry: Entry | undefined,
    why: Failed,
    request: RequestFields,
    req: RequestDirectives,
  ): Promise<SvcResult> {
    if (entry) {
      const staleness = Math.max(0, this.ageS(entry) - this.lifetimeS(up, entry));
      const reason = staleOnError(entry.headers, staleness, req, up.config.serve_stale);
      const out = reason ? await this.fromStore(up, entry, 'STALE', request, reason) : undefined;
      if (out) return out;
    }
    this.stats.bump(up.name, 'errors');
    if (why.response) {
      this.stats.served(up.name, 'MISS', 0);
      const now = this.clock.wallMs();
      return {
        ...why.response,
        size: why.response.body.length,
        cache: 'MISS',
        ageS: 0,
        dataDate: upstreamDate(why.response.headers, now),
      };
    }
    if (why.reason === 'too_large')
      throw new GwError('GW_ERR_UPSTREAM_BAD_RESPONSE', `upstream ${up.name} answer is too large to relay`);
    throw new GwError('GW_ERR_UPSTREAM_UNAVAILABLE', `upstream ${up.name} unavailable (${why.reason})`);
  }

  /**
   * A stored response as an answer without revalidation (HIT or STALE): its body from memory,
   * inline or file, streamed from its file when too large for memory (cut to the kiosk's Range
   * there, so a range of a PDF costs the range). undefined when the body is missing or damaged.
   */
  private async fromStore(
    up: Upstream,
    e: Entry,
    cache: 'HIT' | 'STALE',
    request: RequestFields,
    staleReason?: string,
  ): Promise<SvcResult | undefined> {
    const opened = await this.open(e, request);
    if (!opened) return undefined;
    this.storage.touch(e);
    this.stats.served(up.name, cache, e.size);
    return {
      status: e.status,
      headers: reusedHeaders(e.headers),
      ...opened,
      cache,
      ageS: this.ageS(e),
      dataDate: e.dataDate,
      ...(cache === 'STALE' && staleReason ? { staleReason } : {}),
    };
  }

  /** The body of an entry: in memory when it fits there, else its checked file as a stream. */
  private async open(
    e: Entry,
    request: RequestFields,
  ): Promise<{ body: Buffer | Readable; size: number; range?: ByteRange & { total: number } } | undefined> {
    if (!this.storage.streams(e)) {
      const body = this.storage.readBody(e);
      return body ? { body, size: body.length } : undefined;
    }
    const r = rangeFor(request, e.status, e.headers, e.size);
    const range = typeof r === 'object' ? r : undefined;
    const body = await this.storage.openBody(e, range);
    if (!body) return undefined;
    return range
      ? { body, size: range.end - range.start + 1, range: { ...range, total: e.size } }
      : { body, size: e.size };
  }

  private lifetimeS(up: Upstream, e: Entry): number {
    e.lifetimeS ??= freshnessLifetimeS(e.headers, up.config.ttl_s, e.status, e.storedWall);
    return e.lifetimeS;
  }

  /** Current age (RFC 9111 4.2.3): initial age + time resident here, on the monotonic clock when possible. */
  private ageS(e: Entry): number {
    const residentMs =
      e.kernelBoot === this.clock.kernelBootId
        ? this.clock.monoMs() - e.storedMono
        : this.clock.wallMs() - e.storedWall;
    return e.initialAgeS + Math.max(0, Math.floor(residentMs / 1000));
  }
}
