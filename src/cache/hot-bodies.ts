/** A byte-bounded LRU of bodies in memory (Map order = recency), so hits never touch disk. */
export class HotBodies {
  private readonly maxBytes: number;
  private readonly map = new Map<number, Buffer>();
  private bytes = 0;
  /** The most recently used id (the last in map order), or undefined. */
  private newest: number | undefined;

  constructor(maxBytes: number) {
    this.maxBytes = maxBytes;
  }

  get(id: number): Buffer | undefined {
    const b = this.map.get(id);
    // Re-inserting moves the body to the recent end; a run of hits on the same page (the
    // kiosks' usual load) skips that delete + set (~0.2 µs of a ~16 µs hit, profiled).
    if (b && id !== this.newest) {
      this.map.delete(id);
      this.map.set(id, b);
      this.newest = id;
    }
    return b;
  }

  /** One body may take at most a quarter, so a single PDF cannot flush every catalogue page. */
  fits(size: number): boolean {
    return size <= this.maxBytes / 4;
  }

  set(id: number, body: Buffer): void {
    this.delete(id);
    if (!this.fits(body.length)) return;
    this.map.set(id, body);
    this.newest = id;
    this.bytes += body.length;
    for (const [k, v] of this.map) {
      if (this.bytes <= this.maxBytes) break;
      this.map.delete(k);
      this.bytes -= v.length;
    }
  }

  delete(id: number): void {
    const b = this.map.get(id);
    if (!b) return;
    this.map.delete(id);
    this.bytes -= b.length;
    if (this.newest === id) this.newest = undefined;
  }

  clear(): void {
    this.map.clear();
    this.bytes = 0;
    this.newest = undefined;
  }
}
