import type { Store } from '../store/store.js';
import type { HeaderMap } from './cache-policy.js';

/** One stored response as the cache indexes it (cache_entries row + derived Vary names). */
export interface Entry {
  id: number;
  upstream: string;
  key: string;
  varyKey: string;
  varyNames: string[];
  status: number;
  headers: HeaderMap;
  storedWall: number;
  storedMono: number;
  kernelBoot: string;
  initialAgeS: number;
  /** When the upstream last vouched for this data (its Date header, else our wall clock). */
  dataDate: number;
  sha256: string;
  size: number;
  lastAccess: number;
  /** Freshness lifetime, derived from the headers on first use (cleared when they change). */
  lifetimeS?: number | undefined;
}

export type NewEntry = Omit<
  Entry,
  'id' | 'lastAccess' | 'varyKey' | 'varyNames' | 'sha256' | 'size' | 'lifetimeS'
>;

/** What a row holds: an Entry without what the cache derives (Vary names, lifetime). */
export type StoredEntry = Omit<Entry, 'varyNames' | 'lifetimeS'>;

/** The fields a 304 revalidation rewrites. */
export type RefreshedFields = Pick<
  Entry,
  'headers' | 'storedWall' | 'storedMono' | 'kernelBoot' | 'initialAgeS' | 'dataDate'
>;

interface Row {
  id: number;
  upstream: string;
  key: string;
  vary_key: string;
  status: number;
  headers: string;
  stored_wall: number;
  stored_mono: number;
  kernel_boot: string;
  initial_age_s: number;
  data_date: number;
  body_sha256: string;
  body_size: number;
  last_access: number;
  in_file: number;
}

const fromRow = (r: Row): StoredEntry => ({
  id: r.id,
  upstream: r.upstream,
  key: r.key,
  varyKey: r.vary_key,
  status: r.status,
  headers: JSON.parse(r.headers) as HeaderMap,
  storedWall: r.stored_wall,
  storedMono: r.stored_mono,
  kernelBoot: r.kernel_boot,
  initialAgeS: r.initial_age_s,
  dataDate: r.data_date,
  sha256: r.body_sha256,
  size: r.body_size,
  lastAccess: r.last_access,
});

/**
 * The cache_entries table: its SQL and row mapping, nothing else. Writes go through
 * store.batch (group commit); the body of a small entry is an inline BLOB, of a large one
 * NULL (its file is named by sha256, see body-files.ts).
 */
export class CacheRepo {
  private readonly store: Store;

  constructor(deps: { store: Store }) {
    this.store = deps.store;
  }

  /** Every entry, with whether its body is in a file. */
  all(): Array<{ entry: StoredEntry; inFile: boolean }> {
    const rows = this.store.db
      .prepare(
        `SELECT id, upstream, key, vary_key, status, headers, stored_wall, stored_mono, kernel_boot,
                initial_age_s, data_date, body_sha256, body_size, last_access, body IS NULL AS in_file
         FROM cache_entries`,
      )
      .all() as Row[];
    return rows.map((r) => ({ entry: fromRow(r), inFile: r.in_file === 1 }));
  }

  /** The inline body of an entry; undefined when it has none (or no row). */
  inlineBody(id: number): Buffer | undefined {
    const row = this.store.db.prepare('SELECT body FROM cache_entries WHERE id = ?').get(id) as
      | { body: Buffer | null }
      | undefined;
    return row?.body ?? undefined;
  }

  /** Inserts an entry, deleting `replaces` in the same transaction; returns the new id. */
  insert(e: Omit<StoredEntry, 'id'>, inline: Buffer | null, replaces?: number): number {
    return this.store.batch(() => {
      if (replaces !== undefined)
        this.store.db.prepare('DELETE FROM cache_entries WHERE id = ?').run(replaces);
      const res = this.store.db
        .prepare(
          `INSERT INTO cache_entries (upstream, key, vary_key, status, headers, stored_wall, stored_mono,
             kernel_boot, initial_age_s, data_date, body_sha256, body_size, body, last_access)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          e.upstream,
          e.key,
          e.varyKey,
          e.status,
          JSON.stringify(e.headers),
          e.storedWall,
          e.storedMono,
          e.kernelBoot,
          e.initialAgeS,
          e.dataDate,
          e.sha256,
          e.size,
          inline,
          e.lastAccess,
        );
      return Number(res.lastInsertRowid);
    });
  }

  refresh(id: number, f: RefreshedFields): void {
    this.store.batch(() =>
      this.store.db
        .prepare(
          `UPDATE cache_entries SET headers = ?, stored_wall = ?, stored_mono = ?, kernel_boot = ?,
             initial_age_s = ?, data_date = ? WHERE id = ?`,
        )
        .run(
          JSON.stringify(f.headers),
          f.storedWall,
          f.storedMono,
          f.kernelBoot,
          f.initialAgeS,
          f.dataDate,
          id,
        ),
    );
  }

  /** Writes last_access of several entries in one transaction. */
  touch(accesses: ReadonlyArray<{ id: number; lastAccess: number }>): void {
    const stmt = this.store.db.prepare('UPDATE cache_entries SET last_access = ? WHERE id = ?');
    this.store.batch(() => {
      for (const a of accesses) stmt.run(a.lastAccess, a.id);
    });
  }

  remove(ids: readonly number[]): void {
    const stmt = this.store.db.prepare('DELETE FROM cache_entries WHERE id = ?');
    this.store.batch(() => {
      for (const id of ids) stmt.run(id);
    });
  }

  removeAll(): void {
    this.store.batch(() => this.store.db.prepare('DELETE FROM cache_entries').run());
  }
}
