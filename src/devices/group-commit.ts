/**
 * Group commit: requests that arrive close together share one durable (fsync'd) transaction.
 * A request's promise settles only after the transaction holding its items committed (or
 * failed). With windowMs 0 a group is whatever arrived during the current event-loop turn,
 * which under load is everything that queued up while the previous fsync blocked the loop;
 * a small window (1–5 ms) trades that much latency for fewer fsyncs when load is light.
 */
export interface GroupCommitOptions<T, R> {
  windowMs: number;
  /** Flush at once when this many items are waiting. */
  maxItems: number;
  /**
   * Runs one transaction for all waiting requests; returns one result per request, in order,
   * or a promise of them when durability is reached asynchronously (the next group may then
   * commit while this one waits).
   */
  commit(requests: readonly T[]): R[] | Promise<R[]>;
  /** Item count of one request (events in a batch). */
  size(request: T): number;
  /** Arms a one-shot timer (the daemon's scheduler). */
  after(delayMs: number, fn: () => void): { cancel(): void };
}

interface Waiting<T, R> {
  request: T;
  resolve(r: R): void;
  reject(err: unknown): void;
}

export class GroupCommitter<T, R> {
  private readonly o: GroupCommitOptions<T, R>;
  private queue: Array<Waiting<T, R>> = [];
  private items = 0;
  private timer: { cancel(): void } | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private commits = 0;

  constructor(options: GroupCommitOptions<T, R>) {
    this.o = options;
  }

  /** Number of transactions committed so far (for tests and metrics). */
  get commitCount(): number {
    return this.commits;
  }

  submit(request: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ request, resolve, reject });
      this.items += this.o.size(request);
      if (this.items >= this.o.maxItems) this.flush();
      else this.arm();
    });
  }

  /** Commits whatever waits now (also used at stop, so no request is left hanging). */
  flush(): void {
    this.disarm();
    const group = this.queue;
    if (group.length === 0) return;
    this.queue = [];
    this.items = 0;
    const settle = (results: R[]) => {
      this.commits++;
      group.forEach((w, i) => {
        w.resolve(results[i] as R);
      });
    };
    const fail = (err: unknown) => {
      for (const w of group) w.reject(err);
    };
    try {
      const results = this.o.commit(group.map((w) => w.request));
      if (Array.isArray(results)) settle(results);
      else results.then(settle, fail);
    } catch (err) {
      fail(err);
    }
  }

  private arm(): void {
    if (this.timer || this.immediate) return;
    if (this.o.windowMs <= 0) {
      // Not a timer: the check phase of this same loop turn, after all ready sockets were read.
      this.immediate = setImmediate(() => {
        this.immediate = undefined;
        this.flush();
      });
    } else {
      this.timer = this.o.after(this.o.windowMs, () => {
        this.timer = undefined;
        this.flush();
      });
    }
  }

  private disarm(): void {
    this.timer?.cancel();
    this.timer = undefined;
    if (this.immediate) clearImmediate(this.immediate);
    this.immediate = undefined;
  }
}
