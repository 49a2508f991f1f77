/**
 * The simulator's event queue: a binary min-heap on (time, insertion order). Events at the
 * same moment run in the order they were scheduled, so a run is reproducible from its seed.
 */
export class Agenda {
  private readonly heap: Array<{ at: number; n: number; fn: () => void }> = [];
  private counter = 0;

  get size(): number {
    return this.heap.length;
  }

  /** Time of the next event, or undefined. */
  peek(): number | undefined {
    return this.heap[0]?.at;
  }

  push(at: number, fn: () => void): void {
    const h = this.heap;
    h.push({ at, n: this.counter++, fn });
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }

  /** Removes and returns the next event if it is due at or before `now`. */
  popDue(now: number): { at: number; fn: () => void } | undefined {
    const h = this.heap;
    const top = h[0];
    if (!top || top.at > now) return undefined;
    const last = h.pop();
    if (last && h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(l, m)) m = l;
        if (r < h.length && this.less(r, m)) m = r;
        if (m === i) break;
        this.swap(i, m);
        i = m;
      }
    }
    return top;
  }

  private less(a: number, b: number): boolean {
    const x = this.heap[a];
    const y = this.heap[b];
    if (!x || !y) return false;
    return x.at < y.at || (x.at === y.at && x.n < y.n);
  }

  private swap(a: number, b: number): void {
    const h = this.heap;
    const t = h[a];
    h[a] = h[b] as (typeof h)[number];
    h[b] = t as (typeof h)[number];
  }
}
