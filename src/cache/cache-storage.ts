import { createHash } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { Store } from '../store/store.js';
import { BodyFiles } from './body-files.js';
import { type HeaderMap, varyKey, varyNames } from './cache-policy.js';
import { CacheRepo, type Entry, type NewEntry, type RefreshedFields } from './cache-repo.js';
import { FileBody } from './file-body.js';
import { HotBodies } from './hot-bodies.js';
import type { TempBody } from './temp-body.js';

/** Bodies above this go to files; smaller ones stay inline in SQLite. */
export const INLINE_MAX = 64 * 1024;

export type { Entry, NewEntry } from './cache-repo.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/**
 * Metadata of every entry in memory (lookups never touch disk), bodies in a bounded hot set,
 * else inline BLOBs or files (rows: cache-repo.ts). Bounded by maxBytes with LRU eviction; last_access is written
 * lazily in batches (flush()) to spare the SD card. Every body read from disk is checked
 * against its sha256: a damaged entry is dropped, never served.
 */
export class CacheStorage {
  private readonly repo: CacheRepo;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly files: BodyFiles;
  private readonly hot: HotBodies;
  readonly maxBytes: number;
  private readonly byKey = new Map<string, Entry[]>();
  private readonly byId = new Map<number, Entry>();
  private readonly fileRefs = new Map<string, number>();
  private readonly dirty = new Set<number>();
  private total = 0;

  constructor(deps: {
    store: Store;
    clock: Clock;
    log: Logger;
    dir: string;
    maxBytes: number;
    hotBytes: number;
  }) {
    this.repo = new CacheRepo({ store: deps.store });
    this.clock = deps.clock;
    this.log = deps.log;
    this.files = new BodyFiles(deps.dir);
    this.hot = new HotBodies(deps.hotBytes);
    this.maxBytes = deps.maxBytes;
  }

  start(): void {
    this.files.start();
    for (const { entry, inFile } of this.repo.all()) {
      const names = varyNames(entry.headers);
      this.index({ ...entry, varyNames: names === '*' ? [] : names }, inFile);
    }
    const swept = this.files.sweep(new Set(this.fileRefs.keys()));
    if (swept > 0) this.log.info({ swept }, 'removed orphaned cache files');
  }

  get entries(): number {
    return this.byId.size;
  }

  get bytes(): number {
    return this.total;
  }

  /** The stored variant matching the request's values of the response's Vary headers. */
  lookup(key: string, request: Readonly<Record<string, string | string[] | undefined>>): Entry | undefined {
    const list = this.byKey.get(key);
    if (!list) return undefined;
    return list.find((e) => varyKey(e.varyNames, request) === e.varyKey);
  }

  /** The body when it is in the hot set (no I/O, already checked when it got there), else undefined. */
  hotBody(e: Entry): Buffer | undefined {
    return this.hot.get(e.id);
  }

  /**
   * Whether a HIT streams this entry's body from its file: file-backed and too large for the
   * hot set, so reading it whole would cost its full size in memory on every request.
   */
  streams(e: Entry): boolean {
    return e.size > INLINE_MAX && !this.hot.fits(e.size);
  }

  /** The body file as a stream, checked before the first byte; undefined (entry dropped) when damaged. */
  async openBody(e: Entry, range?: { start: number; end: number }): Promise<FileBody | undefined> {
    const fh = await this.files.openChecked(e.sha256, e.size);
    if (fh) return range ? new FileBody(fh, range.start, range.end) : new FileBody(fh, 0, e.size - 1);
    this.log.warn({ upstream: e.upstream, entry: e.id }, 'damaged cache entry dropped');
    this.remove(e);
    return undefined;
  }

  /** The body, checked; undefined (and the entry dropped) when it is missing or damaged. */
  readBody(e: Entry): Buffer | undefined {
    const cached = this.hot.get(e.id);
    if (cached) return cached;
    let body: Buffer | undefined;
    if (e.size > INLINE_MAX) body = this.files.read(e.sha256);
    else body = this.repo.inlineBody(e.id);
    if (!body || body.length !== e.size || sha(body) !== e.sha256) {
      this.log.warn({ upstream: e.upstream, entry: e.id }, 'damaged cache entry dropped');
      this.remove(e);
      return undefined;
    }
    this.hot.set(e.id, body);
    return body;
  }

  put(n: NewEntry, request: HeaderMap, body: Buffer): Entry | undefined {
    const names = varyNames(n.headers);
    if (names === '*' || body.length > this.maxBytes / 4) return undefined;
    const digest = sha(body);
    const inFile = body.length > INLINE_MAX;
    if (inFile && !this.fileRefs.has(digest)) this.files.write(digest, body);
    const entry = this.insert(n, names, request, digest, body.length, inFile ? null : body);
    this.hot.set(entry.id, body);
    this.evict();
    return entry;
  }

  /** A temp file in the body directory for a body that arrives in chunks (see putFile). */
  tempBody(): TempBody {
    return this.files.temp();
  }

  /**
   * Stores a body already written, fsync'd and hashed in a temp file: renamed to its sha256
   * name (or dropped when that file exists already) and recorded as put() records it.
   * undefined when it may not be stored (Vary: *, over a quarter of the cache, or inline-sized);
   * the temp file is then left to the caller.
   */
  putFile(
    n: NewEntry,
    request: HeaderMap,
    temp: TempBody,
    body: { sha256: string; size: number },
  ): Entry | undefined {
    const names = varyNames(n.headers);
    if (names === '*' || body.size > this.maxBytes / 4 || body.size <= INLINE_MAX) return undefined;
    const shared = this.fileRefs.has(body.sha256);
    if (!shared) this.files.adopt(temp, body.sha256);
    let entry: Entry;
    try {
      entry = this.insert(n, names, request, body.sha256, body.size, null);
    } catch (err) {
      if (!shared && !this.fileRefs.has(body.sha256)) this.files.remove(body.sha256);
      throw err;
    }
    this.evict();
    return entry;
  }

  private insert(
    n: NewEntry,
    names: string[],
    request: HeaderMap,
    digest: string,
    size: number,
    inline: Buffer | null,
  ): Entry {
    const vk = varyKey(names, request);
    const old = this.byKey.get(n.key)?.find((e) => e.varyKey === vk);
    const now = this.clock.wallMs();
    const stored = { ...n, varyKey: vk, sha256: digest, size, lastAccess: now };
    const id = this.repo.insert(stored, inline, old?.id);
    const entry: Entry = { ...n, id, varyKey: vk, varyNames: names, sha256: digest, size, lastAccess: now };
    // Index before unindexing the old variant: when both share a body file, its count must not
    // drop to zero in between (that would delete the file the new entry needs).
    this.index(entry, inline === null);
    if (old) this.unindex(old);
    return entry;
  }

  /** After a 304: new headers and validation time, same body. */
  refreshed(e: Entry, fields: RefreshedFields): void {
    Object.assign(e, fields, { lifetimeS: undefined });
    this.repo.refresh(e.id, e);
  }

  /** Marks use for LRU; written to disk by flush(), not per request. */
  touch(e: Entry): void {
    e.lastAccess = this.clock.wallMs();
    this.dirty.add(e.id);
  }

  flush(): void {
    if (this.dirty.size === 0) return;
    const ids = [...this.dirty];
    this.dirty.clear();
    this.repo.touch(ids.flatMap((id) => this.byId.get(id) ?? []));
  }

  /** Every stored variant of a key (an unsafe method succeeded on it). */
  removeKey(key: string): void {
    const list = this.byKey.get(key);
    if (!list) return;
    this.repo.remove(list.map((e) => e.id));
    for (const e of [...list]) this.unindex(e);
  }

  remove(e: Entry): void {
    this.repo.remove([e.id]);
    this.unindex(e);
  }

  /** Deletes every stored body and entry (privacy action). */
  wipe(): number {
    const n = this.byId.size;
    this.repo.removeAll();
    this.files.removeAll();
    this.byKey.clear();
    this.byId.clear();
    this.fileRefs.clear();
    this.dirty.clear();
    this.hot.clear();
    this.total = 0;
    return n;
  }

  private evict(): void {
    if (this.total <= this.maxBytes) return;
    const target = this.maxBytes * 0.9;
    const victims = [...this.byId.values()].sort((a, b) => a.lastAccess - b.lastAccess);
    const gone: Entry[] = [];
    let total = this.total;
    for (const v of victims) {
      if (total <= target) break;
      gone.push(v);
      total -= entryBytes(v);
    }
    this.repo.remove(gone.map((v) => v.id));
    for (const v of gone) this.unindex(v);
    this.log.debug({ evicted: gone.length }, 'cache evicted least recently used entries');
  }

  private index(e: Entry, inFile: boolean): void {
    const list = this.byKey.get(e.key) ?? [];
    list.push(e);
    this.byKey.set(e.key, list);
    this.byId.set(e.id, e);
    if (inFile) this.fileRefs.set(e.sha256, (this.fileRefs.get(e.sha256) ?? 0) + 1);
    this.total += entryBytes(e);
  }

  private unindex(e: Entry): void {
    if (!this.byId.delete(e.id)) return;
    const list = this.byKey.get(e.key)?.filter((x) => x.id !== e.id) ?? [];
    if (list.length > 0) this.byKey.set(e.key, list);
    else this.byKey.delete(e.key);
    this.hot.delete(e.id);
    this.dirty.delete(e.id);
    this.total -= entryBytes(e);
    const refs = this.fileRefs.get(e.sha256);
    if (refs !== undefined && e.size > INLINE_MAX) {
      if (refs <= 1) {
        this.fileRefs.delete(e.sha256);
        this.files.remove(e.sha256);
      } else this.fileRefs.set(e.sha256, refs - 1);
    }
  }
}

/** Body plus a rough allowance for the metadata row. */
function entryBytes(e: Entry): number {
  return e.size + 512;
}
