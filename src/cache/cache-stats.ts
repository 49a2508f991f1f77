import type { CacheStatus } from '../status/types.js';

export type CacheOutcome = 'HIT' | 'MISS' | 'STALE' | 'REVALIDATED';

export interface UpstreamStats {
  hits: number;
  misses: number;
  stale: number;
  last_refresh: string | null;
  revalidated: number;
  bytes_saved: number;
  errors: number;
  outbound_queued: number;
  outbound_delivered: number;
  outbound_failed: number;
}

export interface CacheSection extends CacheStatus {
  upstreams: Record<string, UpstreamStats>;
  outbound: { depth: number; bytes: number };
}

const empty = (): UpstreamStats => ({
  hits: 0,
  misses: 0,
  stale: 0,
  last_refresh: null,
  revalidated: 0,
  bytes_saved: 0,
  errors: 0,
  outbound_queued: 0,
  outbound_delivered: 0,
  outbound_failed: 0,
});

/** Counters per upstream, cumulative across restarts (seeded from the persisted section). */
export class CacheStats {
  private readonly per = new Map<string, UpstreamStats>();
  private changed = true;

  constructor(names: readonly string[]) {
    for (const n of names) this.per.set(n, empty());
  }

  seed(saved: Partial<CacheSection> | undefined): void {
    for (const [name, s] of Object.entries(saved?.upstreams ?? {})) {
      const mine = this.per.get(name);
      if (!mine) continue;
      for (const k of Object.keys(mine) as Array<keyof UpstreamStats>) {
        const v = s[k];
        if (k === 'last_refresh') mine.last_refresh = typeof v === 'string' ? v : null;
        else if (typeof v === 'number' && Number.isFinite(v)) mine[k] = v;
      }
    }
  }

  served(upstream: string, outcome: CacheOutcome, bytesFromCache: number): void {
    const s = this.per.get(upstream);
    if (!s) return;
    if (outcome === 'HIT') s.hits += 1;
    else if (outcome === 'MISS') s.misses += 1;
    else if (outcome === 'STALE') s.stale += 1;
    else s.revalidated += 1;
    s.bytes_saved += bytesFromCache;
    this.changed = true;
  }

  bump(upstream: string, key: 'errors' | 'outbound_queued' | 'outbound_delivered' | 'outbound_failed'): void {
    const s = this.per.get(upstream);
    if (!s) return;
    s[key] += 1;
    this.changed = true;
  }

  refreshed(upstream: string, iso: string): void {
    const s = this.per.get(upstream);
    if (!s) return;
    s.last_refresh = iso;
    this.changed = true;
  }

  markChanged(): void {
    this.changed = true;
  }

  /** True once after any change (the persister writes only then). */
  takeChanged(): boolean {
    const c = this.changed;
    this.changed = false;
    return c;
  }

  snapshot(): Record<string, UpstreamStats> {
    return Object.fromEntries([...this.per].map(([k, v]) => [k, { ...v }]));
  }
}
