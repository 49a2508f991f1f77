import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import {
  type HeaderMap,
  isStorable,
  mergeNotModified,
  parseAge,
  parseHttpDate,
  storedHeaders,
} from './cache-policy.js';
import { type CacheStorage, type Entry, INLINE_MAX, type NewEntry } from './cache-storage.js';
import type { SvcResult } from './read-through.js';
import type { TempBody } from './temp-body.js';
import { type Spill, type UpstreamClient, UpstreamError, type UpstreamResponse } from './upstream-client.js';
import type { Upstream } from './upstreams.js';

/**
 * How one upstream exchange ended, shared by every kiosk in its flight: an answer in memory
 * (MISS or REVALIDATED), a response stored as a file (each kiosk opens its own checked stream
 * of it), or a failure for the fallback (stale copy, the upstream's 5xx, or 504).
 */
export type Fetched =
  | { kind: 'answer'; result: SvcResult }
  | { kind: 'file'; entry: Entry; cache: 'MISS' | 'REVALIDATED'; ageS: number; dataDate: number }
  | Failed;
export type Failed = { kind: 'failed'; reason: string; response?: UpstreamResponse };

/**
 * One GET to the upstream on behalf of the cache: the kiosk's forwarded fields plus the
 * upstream's credentials and the stored validators; the answer stored when RFC 9111 allows it
 * (a large 200 written to a temp file as it arrives), a 304 merged into the stored response.
 */
export class UpstreamFetch {
  private readonly storage: CacheStorage;
  private readonly client: UpstreamClient;
  private readonly clock: Clock;
  private readonly log: Logger;

  constructor(deps: { storage: CacheStorage; client: UpstreamClient; clock: Clock; log: Logger }) {
    this.storage = deps.storage;
    this.client = deps.client;
    this.clock = deps.clock;
    this.log = deps.log;
  }

  async fetch(
    up: Upstream,
    pathAndQuery: string,
    key: string,
    fwd: HeaderMap,
    entry: Entry | undefined,
    cacheable: boolean,
  ): Promise<Fetched> {
    let headers: HeaderMap;
    try {
      headers = { ...fwd, ...(await up.credentials()) };
    } catch (err) {
      if (err instanceof UpstreamError) return { kind: 'failed', reason: err.message };
      throw err;
    }
    // A storable 200 larger than the inline limit is written to a temp file as it arrives.
    let temp: TempBody | undefined;
    const spill: Spill = {
      above: INLINE_MAX,
      // Stored bodies stream on every path, so only the cache's own bound (a quarter) limits them.
      // (One too large to store is read back into memory: at most 1 MiB then.)
      maxBytes: Math.max(1024 * 1024, Math.floor(this.storage.maxBytes / 4)),
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
        headers,
        timeoutMs: up.config.timeout_ms,
        spill,
      });
    } catch (err) {
      if (err instanceof UpstreamError) return { kind: 'failed', reason: err.kind };
      throw err;
    }
    up.rejected(res.status);
    if (res.status >= 500) return { kind: 'failed', reason: `status ${res.status}`, response: res };
    const mono = this.clock.monoMs();
    const wall = this.clock.wallMs();
    const { age, ...received } = res.headers;
    const resHeaders = storedHeaders(received);
    // RFC 9111 4.2.3: the Age the upstream sent plus the time the exchange took; plus the
    // apparent age (our clock minus its Date) only while our clock is synced: the box has no
    // RTC, and an unsynced clock would make every answer look ancient or brand new.
    const date = parseHttpDate(resHeaders.date);
    const apparentS =
      this.clock.synced() && date !== undefined ? Math.max(0, Math.floor((wall - date) / 1000)) : 0;
    const initialAgeS = Math.max(apparentS, parseAge(age) + Math.round((mono - sentMono) / 1000));
    const fields = {
      storedWall: wall,
      storedMono: mono,
      kernelBoot: this.clock.kernelBootId,
      initialAgeS,
      dataDate: upstreamDate(resHeaders, wall),
    };
    if (res.status === 304 && entry) {
      this.storage.refreshed(entry, { ...fields, headers: mergeNotModified(entry.headers, resHeaders) });
      this.storage.touch(entry);
      // A large body is not read into memory to answer: each kiosk streams the stored file.
      if (this.storage.streams(entry))
        return { kind: 'file', entry, cache: 'REVALIDATED', ageS: initialAgeS, dataDate: fields.dataDate };
      const body = this.storage.readBody(entry);
      if (!body) return this.fetch(up, pathAndQuery, key, fwd, undefined, cacheable);
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
      const stored = await this.storeSpilled(
        up,
        temp,
        { upstream: up.name, key, status: res.status, headers: resHeaders, ...fields },
        fwd,
      );
      // The disk failed and the part written could not be read back: no partial answer.
      if (!stored) return { kind: 'failed', reason: 'unreachable' };
      if (stored.kind === 'file')
        return {
          kind: 'file',
          entry: stored.entry,
          cache: 'MISS',
          ageS: initialAgeS,
          dataDate: fields.dataDate,
        };
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
  private async storeSpilled(
    up: Upstream,
    temp: TempBody,
    n: NewEntry,
    fwd: HeaderMap,
  ): Promise<{ kind: 'file'; entry: Entry } | { kind: 'memory'; body: Buffer } | undefined> {
    try {
      const done = await temp.finish();
      if (done.kind === 'memory') return { kind: 'memory', body: done.body };
      let entry: Entry | undefined;
      try {
        entry = this.storage.putFile(n, fwd, temp, done);
      } catch (err) {
        this.log.warn({ err, upstream: up.name }, 'could not store response');
      }
      if (entry) return { kind: 'file', entry };
      return { kind: 'memory', body: await temp.readAll() };
    } catch (err) {
      this.log.warn({ err, upstream: up.name }, 'could not keep response body');
      return undefined;
    } finally {
      temp.close();
    }
  }
}

export function upstreamDate(headers: HeaderMap, fallback: number): number {
  return parseHttpDate(headers.date) ?? fallback;
}
