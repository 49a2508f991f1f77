import type { Logger } from '../core/logger.js';
import { quarantineAfter } from './classify.js';
import type { CommitResult, Received } from './store/ingest-repo.js';

interface Pending {
  rec: Received;
  /** Sends the PUBACK; called only after the message's transaction committed. */
  ack(): void;
}

export interface IngestQueueOptions {
  commit(batch: readonly Received[]): Promise<CommitResult>;
  onCommitted(result: CommitResult, size: number): void;
  /** True when the database answers: a failure while it does is the message's fault. */
  ping(): Promise<boolean>;
  log: Logger;
  /** Arms a one-shot timer (the scheduler): retry after a failed commit. */
  after(delayMs: number, fn: () => void): { cancel(): void };
  maxBatch?: number;
  retryMs?: number;
}

/**
 * Group commit for the collector. Messages queue while a transaction is in flight; when it
 * ends, everything that arrived meanwhile commits together (up to maxBatch), then each of
 * them is acknowledged, in arrival order. Nothing is acknowledged before it is durable.
 * A failing commit (database away) is retried; a batch that keeps failing is split, and a
 * single message the store keeps refusing is quarantined instead, so one bad row cannot
 * stall the stream and nothing is dropped silently.
 */
export class IngestQueue {
  private readonly o: IngestQueueOptions;
  private readonly maxBatch: number;
  private readonly retryMs: number;
  private queue: Pending[] = [];
  private busy = false;
  private armed: NodeJS.Immediate | { cancel(): void } | undefined;
  private failures = 0;
  private idleWaiters: Array<() => void> = [];

  constructor(options: IngestQueueOptions) {
    this.o = options;
    this.maxBatch = options.maxBatch ?? 500;
    this.retryMs = options.retryMs ?? 1000;
  }

  get depth(): number {
    return this.queue.length;
  }

  push(rec: Received, ack: () => void): void {
    this.queue.push({ rec, ack });
    // After the current loop turn: everything mqtt.js parsed from this socket read joins.
    if (!this.busy && !this.armed) this.armed = setImmediate(() => this.run());
  }

  /** Resolves when nothing is queued or committing (stop, tests). */
  idle(): Promise<void> {
    if (!this.busy && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Forgets what is queued (stop after the connection closed: the broker redelivers it). */
  clear(): void {
    this.queue = [];
    this.cancelArmed();
    this.settleIdle();
  }

  private cancelArmed(): void {
    const a = this.armed;
    this.armed = undefined;
    if (!a) return;
    if ('cancel' in a) a.cancel();
    else clearImmediate(a);
  }

  private async run(): Promise<void> {
    this.armed = undefined;
    if (this.busy) return;
    this.busy = true;
    try {
      while (this.queue.length > 0) {
        // After repeated failures, commit one at a time to find the message the store refuses.
        const size = this.failures >= 3 ? 1 : this.maxBatch;
        const batch = this.queue.slice(0, size);
        let result: CommitResult;
        try {
          result = await this.o.commit(batch.map((p) => p.rec));
        } catch (err) {
          this.failures++;
          this.o.log.error({ err, size: batch.length, failures: this.failures }, 'store commit failed');
          if (this.failures >= 6 && batch.length === 1 && (await this.o.ping()))
            this.toQuarantine(batch[0] as Pending, err);
          else {
            this.armed = this.o.after(this.retryMs, () => void this.run());
            return;
          }
          continue;
        }
        this.failures = 0;
        this.queue.splice(0, batch.length);
        this.o.onCommitted(result, batch.length);
        for (const p of batch) p.ack();
      }
    } finally {
      this.busy = false;
      if (this.queue.length === 0) this.settleIdle();
    }
  }

  private toQuarantine(p: Pending, err: unknown): void {
    const detail = String((err as Error)?.message ?? err);
    p.rec = { item: quarantineAfter(p.rec.item, 'store_error', detail), atMs: p.rec.atMs };
    this.failures = 3;
  }

  private settleIdle(): void {
    const w = this.idleWaiters;
    this.idleWaiters = [];
    for (const f of w) f();
  }
}
