import type { Readable } from 'node:stream';
import type { Clock } from '../core/clock.js';
import { GwError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import {
  freshnessLifetimeS,
  type HeaderMap,
  isStorable,
  mayServeStale,
  mergeNotModified,
  requestWantsRevalidation,
} from './cache-policy.js';
import type { CacheOutcome, CacheStats } from './cache-stats.js';
import { type CacheStorage, type Entry, INLINE_MAX, type NewEntry } from './cache-storage.js';
import type { LinkState } from './link-state.js';
import type { TempBody } from './temp-body.js';
import { type Spill, type UpstreamClient, UpstreamError, type UpstreamResponse } from './upstream-client.js';
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
}

/** A fresh entry whose body is in memory: answered without I/O or a promise. */
export interface HotHit {
  entry: Entry;
  body: Buffer;
  ageS: number;
}

/**
 * How one upstream exchange ended, shared by every kiosk in its flight: an answer in memory
 * (MISS or REVALIDATED), a MISS stored as a file (each kiosk opens its own checked stream of
 * it), or a failure for the fallback (stale copy, the upstream's 5xx, or 504).
 */
type Fetched =
  | { kind: 'answer'; result: SvcResult }
  | { kind: 'file'; entry: Entry; ageS: number; dataDate: number }
  | Failed;
type Failed = { kind: 'failed'; reason: string; response?: UpstreamResponse };

/**
 * GET through the cache: fresh → HIT from memory/disk; stale or missing → (conditional)
 * request upstream; upstream dead, slow, 5xx or the link verdict down → the stored copy as
 * STALE when its headers allow, else 504. Concurrent identical misses share one upstream call.
 */
export class ReadThrough {
  private readonly storage: CacheStorage;
  private readonly client: UpstreamClient;
  private readonly link: LinkState;
  private readonly stats: CacheStats;
  private readonly clock: Clock;
  private readonly log: Logger;
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
    this.client = deps.client;
    this.link = deps.link;
    this.stats = deps.stats;
    this.clock = deps.clock;
  }

  async get(
    up: Upstream,
    pathAndQuery: string,
    fwd: HeaderMap,
    request: Readonly<Record<string, string | undefined>> = fwd,
  ): Promise<SvcResult> {
    const key = `${up.name} ${pathAndQuery}`;
    const cacheable = !up.neverCache(pathAndQuery);
    let entry = cacheable ? this.storage.lookup(key, fwd) : undefined;
    if (entry && this.ageS(entry) < this.lifetimeS(up, entry) && !requestWantsRevalidation(request)) {
      const body = this.storage.streams(entry)
        ? await this.storage.openBody(entry)
        : this.storage.readBody(entry);
      if (body) {
        this.storage.touch(entry);
        return this.fromStore(up, entry, body, 'HIT');
      }
      entry = undefined;
    }
    if (this.link.isDown()) return this.fallback(up, entry, { kind: 'failed', reason: 'link down' });
    const flightKey = `${key}\n${JSON.stringify(fwd)}\n${entry?.id ?? ''}`;
    let flight = this.inflight.get(flightKey);
    if (!flight) {
      flight = this.fetch(up, pathAndQuery, key, fwd, entry, cacheable).finally(() =>
        this.inflight.delete(flightKey),
      );
      this.inflight.set(flightKey, flight);
    }
    const fetched = await flight;
    if (fetched.kind === 'failed') return this.fallback(up, entry, fetched);
    let out: SvcResult;
    if (fetched.kind === 'file') {
      const stored = fetched.entry;
      const body = await this.storage.openBody(stored);
      // Evicted or damaged between storing and opening (not seen in practice): no partial answer.
      if (!body) return this.fallback(up, undefined, { kind: 'failed', reason: 'stored body vanished' });
      out = {
        status: stored.status,
        headers: stored.headers,
        body,
        size: stored.size,
        cache: 'MISS',
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
   * upstream, stale). `request` holds the kiosk's Cache-Control and Pragma.
   */
  hotHit(
    up: Upstream,
    pathAndQuery: string,
    fwd: HeaderMap,
    request: { readonly 'cache-control'?: string | undefined; readonly pragma?: string | undefined },
  ): HotHit | undefined {
    if (requestWantsRevalidation(request) || up.neverCache(pathAndQuery)) return undefined;
    const entry = this.storage.lookup(`${up.name} ${pathAndQuery}`, fwd);
    if (!entry) return undefined;
    const ageS = this.ageS(entry);
    if (ageS >= this.lifetimeS(up, entry)) return undefined;
    const body = this.storage.hotBody(entry);
    if (!body) return undefined;
    this.storage.touch(entry);
    this.stats.served(up.name, 'HIT', body.length);
    return { entry, body, ageS };
  }

  linkDown(): boolean {
    return this.link.isDown();
  }

  /** Revalidates or fetches one path for prefetch; reports what happened. */
  async refresh(up: Upstream, pathAndQuery: string): Promise<'fetched' | 'not_modified' | 'failed'> {
    const key = `${up.name} ${pathAndQuery}`;
    const out = await this.fetch(up, pathAndQuery, key, {}, this.storage.lookup(key, {}), true);
    if (out.kind === 'failed') return 'failed';
    return out.kind === 'answer' && out.result.cache === 'REVALIDATED' ? 'not_modified' : 'fetched';
  }

  private fallback(up: Upstream, entry: Entry | undefined, why: Failed): SvcResult {
    if (entry) {
      const staleness = Math.max(0, this.ageS(entry) - this.lifetimeS(up, entry));
      const body = mayServeStale(entry.headers, staleness) ? this.storage.readBody(entry) : undefined;
      if (body) {
        this.storage.touch(entry);
        return this.fromStore(up, entry, body, 'STALE');
      }
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

  private fromStore(up: Upstream, e: Entry, body: Buffer | Readable, cache: CacheOutcome): SvcResult {
    this.stats.served(up.name, cache, e.size);
    return {
      status: e.status,
      headers: e.headers,
      body,
      size: e.size,
      cache,
      ageS: this.ageS(e),
      dataDate: e.dataDate,
    };
  }

  private async fetch(
    up: Upstream,
    pathAndQuery: string,
    key: string,
    fwd: HeaderMap,
    entry: Entry | undefined,
    cacheable: boolean,
  ): Promise<Fetched> {
    const headers: HeaderMap = { ...fwd, via: '1.1 kampung-gw' };
    // A storable 200 larger than the inline limit is written to a temp file as it arrives.
    let temp: TempBody | undefined;
    const spill: Spill = {
      above: INLINE_MAX,
      open: (status, h) => {
        if (!cacheable || status !== 200 || !isStorable(status, h)) return undefined;
        const t = this.storage.tempBody();
        temp = t;
        return { write: (c) => t.write(c), abort: () => t.close() };
      },
    };
    if (entry?.headers.etag) headers['if-none-match'] = entry.headers.etag;
    if (entry?.headers['last-modified']) headers['if-modified-since'] = entry.headers['last-modified'];
    const sentMono = this.clock.monoMs();
    let res: UpstreamResponse;
    try {
      res = await this.client.request({
        url: up.url(pathAndQuery),
        method: 'GET',
        headers: up.withCredentials(headers),
        timeoutMs: up.config.timeout_ms,
        spill,
      });
    } catch (err) {
      if (err instanceof UpstreamError) return { kind: 'failed', reason: err.kind };
      throw err;
    }
    if (res.status >= 500) return { kind: 'failed', reason: `status ${res.status}`, response: res };
    const mono = this.clock.monoMs();
    const wall = this.clock.wallMs();
    const { age, ...resHeaders } = res.headers;
    const initialAgeS = (Number.parseInt(age ?? '0', 10) || 0) + Math.round((mono - sentMono) / 1000);
    const fields = {
      storedWall: wall,
      storedMono: mono,
      kernelBoot: this.clock.kernelBootId,
      initialAgeS,
      dataDate: upstreamDate(resHeaders, wall),
    };
    if (res.status === 304 && entry) {
      const body = this.storage.readBody(entry);
      if (!body) return this.fetch(up, pathAndQuery, key, fwd, undefined, cacheable);
      this.storage.refreshed(entry, { ...fields, headers: mergeNotModified(entry.headers, resHeaders) });
      this.storage.touch(entry);
      return {
        kind: 'answer',
        result: {
          status: entry.status,
          headers: entry.headers,
          body,
          size: body.length,
          cache: 'REVALIDATED',
          ageS: initialAgeS,
          dataDate: fields.dataDate,
        },
      };
    }
    if (res.spilled && temp) {
      const stored = this.storeSpilled(
        up,
        temp,
        { upstream: up.name, key, status: res.status, headers: resHeaders, ...fields },
        fwd,
      );
      // The disk failed and the part written could not be read back: no partial answer.
      if (!stored) return { kind: 'failed', reason: 'unreachable' };
      if (stored.kind === 'file')
        return { kind: 'file', entry: stored.entry, ageS: initialAgeS, dataDate: fields.dataDate };
      res = { ...res, body: stored.body };
    } else if (cacheable && isStorable(res.status, resHeaders)) {
      try {
        this.storage.put(
          { upstream: up.name, key, status: res.status, headers: resHeaders, ...fields },
          fwd,
          res.body,
        );
      } catch (err) {
        // A full or failing disk costs the cache, never the kiosk's answer.
        this.log.warn({ err, upstream: up.name }, 'could not store response');
      }
    }
    return {
      kind: 'answer',
      result: {
        status: res.status,
        headers: resHeaders,
        body: res.body,
        size: res.body.length,
        cache: 'MISS',
        ageS: initialAgeS,
        dataDate: fields.dataDate,
      },
    };
  }

  /**
   * Records a body that arrived in a temp file. When it may not be stored (or the disk fails)
   * the kiosk still gets it, read back into memory as the buffered path would have held it.
   */
  private storeSpilled(
    up: Upstream,
    temp: TempBody,
    n: NewEntry,
    fwd: HeaderMap,
  ): { kind: 'file'; entry: Entry } | { kind: 'memory'; body: Buffer } | undefined {
    try {
      const done = temp.finish();
      if (done.kind === 'memory') return { kind: 'memory', body: done.body };
      let entry: Entry | undefined;
      try {
        entry = this.storage.putFile(n, fwd, temp, done);
      } catch (err) {
        this.log.warn({ err, upstream: up.name }, 'could not store response');
      }
      if (entry) return { kind: 'file', entry };
      return { kind: 'memory', body: temp.readAll() };
    } catch (err) {
      this.log.warn({ err, upstream: up.name }, 'could not keep response body');
      return undefined;
    } finally {
      temp.close();
    }
  }

  private lifetimeS(up: Upstream, e: Entry): number {
    e.lifetimeS ??= freshnessLifetimeS(e.headers, up.config.ttl_s);
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

function upstreamDate(headers: HeaderMap, fallback: number): number {
  const d = headers.date ? Date.parse(headers.date) : Number.NaN;
  return Number.isNaN(d) ? fallback : d;
}
