import type { Scheduler } from '../core/scheduler.js';
import type { OutboxRepo, OutboxRow, RowMeta } from './outbox-repo.js';

interface PendingRow extends OutboxRow {
  /** Wall ms of its PUBACK, or null while it waits for one. */
  sentWall: number | null;
}

/**
 * Health rows not written yet (the outbox's write-behind for health: see Outbox). They hold the
 * newest seqs: anything else the outbox stores writes them first, in its own commit. The pump
 * publishes them from here; `writeTo` stores them — acknowledged ones as kept (sent) rows, or
 * not at all when nothing is kept, with the seq counter moved past them either way, so a seq
 * is never handed out twice while the process lives.
 */
export class PendingHealth {
  private rows: PendingRow[] = [];
  private timer: { cancel(): void } | undefined;

  constructor(
    private readonly scheduler: Scheduler,
    /** The longest a row is held (the outbox's deferHealthMs). */
    private readonly windowMs: number,
  ) {}

  /** Runs `write` once the window has passed, unless armed already or cleared before. */
  arm(write: () => void): void {
    this.timer ??= this.scheduler.after('outbox-health-write', this.windowMs, () => {
      this.timer = undefined;
      write();
    });
  }

  get size(): number {
    return this.rows.length;
  }

  /** The highest seq held here, or 0. */
  maxSeq(): number {
    return this.rows.at(-1)?.seq ?? 0;
  }

  add(row: OutboxRow): void {
    this.rows.push({ ...row, sentWall: null });
  }

  has(id: number): boolean {
    return this.rows.some((r) => r.id === id);
  }

  /** `rows` from the table and the unacknowledged rows held here with id > afterId: oldest first, at most `limit`. */
  merged(rows: OutboxRow[], afterId: number, limit: number): OutboxRow[] {
    if (this.rows.length === 0) return rows;
    const held = this.rows.filter((r) => r.id > afterId && r.sentWall === null);
    return rows
      .concat(held)
      .sort((a, b) => a.id - b.id)
      .slice(0, limit);
  }

  /** A PUBACK for a pending row: true when it was one. */
  ack(row: RowMeta, wall: number): boolean {
    const r = this.rows.find((x) => x.id === row.id);
    if (!r || r.sentWall !== null) return false;
    r.sentWall = wall;
    return true;
  }

  /** Acknowledged rows not written yet (kept rows to be, when the outbox keeps them). */
  acknowledged(): PendingRow[] {
    return this.rows.filter((r) => r.sentWall !== null);
  }

  /** Unacknowledged rows (counted in the outbox's depth): class, bytes, creation. */
  waiting(): PendingRow[] {
    return this.rows.filter((r) => r.sentWall === null);
  }

  /**
   * Stores every pending row inside the caller's transaction; acknowledged ones are stored as
   * kept rows when `keep`, else skipped. Clears the list only once the caller's commit is
   * known (`clear`): a failed commit leaves them here for the next try.
   */
  writeTo(repo: OutboxRepo, keep: boolean): void {
    for (const r of this.rows) {
      if (r.sentWall !== null && !keep) continue;
      repo.insertWith(r, r.sentWall);
    }
    const top = this.maxSeq();
    if (top > 0) repo.raiseSeq(top);
  }

  /** The rows are in the table now (their commit succeeded). */
  clear(): void {
    this.rows = [];
    this.timer?.cancel();
    this.timer = undefined;
  }
}
