/** A byte-bounded LRU of bodies in memory (Map order = recency), so hits never touch disk. */
export class HotBodies {
  private readonly maxBytes: number;
  private readonly map = new Map<number, Buffer>();
  private bytes = 0;

  constructor(maxBytes: number) {
    this.maxBytes = maxBytes;
  }

  get(id: number): Buffer | undefined {
    const b = this.map.get(id);
    if (b) {
      this.map.delete(id);
      this.map.set(id, b);
    }
    return b;
  }

  set(id: number, body: Buffer): void {
    this.delete(id);
    // One body may take at most a quarter, so a single PDF cannot flush every catalogue page.
    if (body.length > this.maxBytes / 4) return;
    this.map.set(id, body);
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
  }

  clear(): void {
    this.map.clear();
    this.bytes = 0;
  }
}
