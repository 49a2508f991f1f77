import type { OutboxRepo, RowMeta } from './outbox-repo.js';
import { CLASSES, type MessageClass } from './topics.js';

/**
 * The outbox's counts kept in memory, so status and the cap never query the table: unsent
 * rows and bytes by class, drops (persisted in report_counters), and kept (sent) envelopes.
 */
export class OutboxTally {
  private readonly count = new Map<MessageClass, number>();
  private unsentBytes = 0;
  private readonly dropped = new Map<MessageClass, number>();
  /** Sum of all drop counters. */
  dropTotal = 0;
  sentRows = 0;
  sentBytes = 0;
  private sentShed = 0;
  private sentPruned = 0;

  /** Reads everything from the table and its counters (start, or a recount). */
  load(repo: OutboxRepo): void {
    for (const c of CLASSES) this.count.set(c, 0);
    this.unsentBytes = 0;
    for (const t of repo.totals()) {
      this.count.set(t.class, t.n);
      this.unsentBytes += t.bytes;
    }
    const counters = repo.counters();
    for (const c of CLASSES) this.dropped.set(c, counters.get(`drop.${c}`) ?? 0);
    this.dropTotal = [...this.dropped.values()].reduce((a, b) => a + b, 0);
    this.sentShed = counters.get('sent.shed') ?? 0;
    this.sentPruned = counters.get('sent.pruned') ?? 0;
    const sent = repo.sentTotals();
    this.sentRows = sent.n;
    this.sentBytes = sent.bytes;
  }

  /** Unsent and kept bytes together: what counts against outbox_max_mb. */
  total(): number {
    return this.unsentBytes + this.sentBytes;
  }

  of(cls: MessageClass): number {
    return this.count.get(cls) ?? 0;
  }

  added(cls: MessageClass, bytes: number): void {
    this.count.set(cls, this.of(cls) + 1);
    this.unsentBytes += bytes;
  }

  /** Unsent rows gone without a PUBACK (shed, compacted): `rows` of them, `bytes` in all. */
  removed(cls: MessageClass, rows: number, bytes: number): void {
    this.count.set(cls, this.of(cls) - rows);
    this.unsentBytes -= bytes;
  }

  /** A PUBACK: no longer waiting; kept for resend when `keeping`. */
  acked(r: RowMeta, keeping: boolean): void {
    this.removed(r.class, 1, r.bytes);
    if (keeping) {
      this.sentRows++;
      this.sentBytes += r.bytes;
    }
  }

  /** Counts `n` messages of `cls` lost, in the table's counters too (inside the caller's transaction). */
  drop(repo: OutboxRepo, cls: MessageClass, n: number): void {
    repo.addCounter(`drop.${cls}`, n);
    this.dropped.set(cls, (this.dropped.get(cls) ?? 0) + n);
    this.dropTotal += n;
  }

  /** Accounts for kept rows just deleted (inside the deleting transaction); returns how many. */
  forgetSent(repo: OutboxRepo, gone: number[], why: 'shed' | 'pruned'): number {
    if (gone.length === 0) return 0;
    this.sentRows = Math.max(0, this.sentRows - gone.length);
    for (const b of gone) this.sentBytes -= b;
    if (this.sentRows === 0 || this.sentBytes < 0) this.sentBytes = Math.max(0, this.sentBytes);
    repo.addCounter(`sent.${why}`, gone.length);
    if (why === 'shed') this.sentShed += gone.length;
    else this.sentPruned += gone.length;
    return gone.length;
  }

  /** A kept row acknowledged and held in memory, to be written (a recount adds these). */
  keptHeld(bytes: number): void {
    this.sentRows++;
    this.sentBytes += bytes;
  }

  /** The table holds no kept rows after all: only those held in memory remain. */
  noneSent(held: ReadonlyArray<{ bytes: number }>): void {
    this.sentRows = held.length;
    this.sentBytes = held.reduce((n, r) => n + r.bytes, 0);
  }

  depth(): number {
    let n = 0;
    for (const v of this.count.values()) n += v;
    return n;
  }

  bytes(): number {
    return this.unsentBytes;
  }

  drops(): Record<MessageClass, number> {
    return Object.fromEntries(CLASSES.map((c) => [c, this.dropped.get(c) ?? 0])) as Record<
      MessageClass,
      number
    >;
  }

  sent(): { rows: number; bytes: number; shed: number; pruned: number } {
    return { rows: this.sentRows, bytes: this.sentBytes, shed: this.sentShed, pruned: this.sentPruned };
  }
}
