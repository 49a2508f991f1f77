import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { Scheduler } from '../core/scheduler.js';
import { markHistorical } from './envelope.js';
import type { Outbox } from './outbox.js';
import type { OutboxRepo, OutboxRow } from './outbox-repo.js';

/** Publishes one QoS 1 message; `done` runs on PUBACK (no error) or on failure. */
export interface Sender {
  publish(topic: string, payload: string, done: (err?: Error) => void): void;
}

export interface PumpDeps {
  outbox: Outbox;
  repo: OutboxRepo;
  clock: Clock;
  scheduler: Scheduler;
  log: Logger;
  window: number;
  drainPerS: number;
}

export interface DrainProgress {
  inflight: number;
  backlog_total: number;
  backlog_sent: number;
  draining: boolean;
  unpaced: boolean;
  /** Kept envelopes asked for again (`resend`) and not yet republished. */
  resend_queued: number;
}

/** Row ids a `resend` may queue at once (ids only: the payload is read when it goes). */
export const MAX_RESEND_QUEUE = 50_000;

/**
 * Owns the in-flight window (mqtt.js never holds more than `window` unacknowledged messages,
 * so its own store never grows and nothing is replayed one-by-one after a reconnect, cf.
 * mqtt.js #1086). Order after each connect: live rows (created after CONNACK) first, then the
 * backlog oldest first, paced by drain_per_s; one slot stays reserved for live messages so
 * a long backlog never delays one by more than a round trip. Kept envelopes the regency asks
 * for again (`resend`) go last, in the same paced slots as the backlog.
 */
export class OutboxPump {
  private readonly d: PumpDeps;
  private sender: Sender | undefined;
  private epoch = 0;
  private readonly inflight = new Set<number>();
  /** Rows with id <= floor existed at CONNACK: they are the backlog (historical). */
  private floor = 0;
  private liveCursor = 0;
  private backlogCursor = 0;
  private backlogTotal = 0;
  private backlogSent = 0;
  private tokens = 0;
  private lastRefill = 0;
  private refillTimer: { cancel(): void } | undefined;
  private kicked = false;
  private unpaced = false;
  private readonly reserve: number;
  /** Prefetched backlog rows; dropped when the outbox sheds or compacts (generation changes). */
  private buffer: OutboxRow[] = [];
  private bufferGen = -1;
  /** Ids of kept rows to republish; survives reconnects (the regency asked once). */
  private resendIds: number[] = [];
  private resendHead = 0;
  private readonly resendQueued = new Set<number>();
  /** Kept envelopes republished and acknowledged since start. */
  resent = 0;

  constructor(deps: PumpDeps) {
    this.d = deps;
    // One slot kept for live messages is enough for "first live within 2 RTT" and costs 1/window.
    this.reserve = deps.window > 1 ? 1 : 0;
  }

  attach(sender: Sender): void {
    this.epoch++;
    this.sender = sender;
    this.releaseInflight();
    // Anything held in memory is stored before the backlog is measured.
    this.d.outbox.setLive(false);
    this.d.outbox.setLive(true);
    this.floor = this.d.repo.maxId();
    this.liveCursor = this.floor;
    this.backlogCursor = 0;
    this.backlogTotal = this.d.outbox.depth();
    this.backlogSent = 0;
    this.buffer = [];
    this.tokens = Math.min(this.bucketSize(), this.d.drainPerS);
    this.lastRefill = this.d.clock.monoMs();
    this.kick();
  }

  detach(): void {
    this.epoch++;
    this.sender = undefined;
    this.d.outbox.setLive(false);
    this.buffer = [];
    this.releaseInflight();
    this.refillTimer?.cancel();
    this.refillTimer = undefined;
  }

  /** flush-outbox: drain the current backlog without pacing. */
  flushNow(): void {
    this.unpaced = true;
    this.kick();
  }

  progress(): DrainProgress {
    return {
      inflight: this.inflight.size,
      backlog_total: this.backlogTotal,
      backlog_sent: this.backlogSent,
      draining: this.sender !== undefined && (this.backlogCursor < this.floor || this.buffer.length > 0),
      unpaced: this.unpaced,
      resend_queued: this.resendQueued.size,
    };
  }

  /**
   * Queues kept rows (by id) to be republished, marked historical. Returns how many were
   * queued now or already; false when the queue would exceed MAX_RESEND_QUEUE.
   */
  queueResend(ids: readonly number[]): number | false {
    const fresh = ids.filter((id) => !this.resendQueued.has(id));
    if (this.resendQueued.size + fresh.length > MAX_RESEND_QUEUE) return false;
    for (const id of fresh) {
      this.resendQueued.add(id);
      this.resendIds.push(id);
    }
    this.kick();
    return ids.length;
  }

  /** New rows may be waiting: pump once the current call stack is done. */
  kick(): void {
    if (this.kicked || !this.sender) return;
    this.kicked = true;
    queueMicrotask(() => {
      this.kicked = false;
      this.pump();
    });
  }

  private pump(): void {
    const sender = this.sender;
    if (!sender) return;
    let free = this.d.window - this.inflight.size;
    if (free <= 0) return;
    if (this.liveCursor < this.d.outbox.lastId) {
      for (const row of this.d.outbox.liveAfter(this.liveCursor, free)) {
        this.liveCursor = row.id;
        if (this.d.outbox.busy.has(row.id)) continue;
        this.send(sender, row, false);
        free--;
      }
    }
    if (this.backlogCursor >= this.floor && this.buffer.length === 0) {
      this.unpaced = false;
      if (this.resendQueued.size === 0) return;
    }
    free = Math.min(free - this.reserve, this.takeTokens());
    while (free > 0) {
      const backlog = this.nextBacklog();
      const row = backlog ?? this.nextResend();
      if (!row) return;
      if (this.d.outbox.busy.has(row.id)) continue;
      if (!this.unpaced) this.tokens--;
      if (backlog) this.backlogSent++;
      free--;
      this.send(sender, row, true, backlog === undefined);
    }
  }

  /** The next queued resend still kept (pruned or shed ones are skipped: reported later as missing). */
  private nextResend(): OutboxRow | undefined {
    while (this.resendHead < this.resendIds.length) {
      const id = this.resendIds[this.resendHead++] as number;
      this.resendQueued.delete(id);
      const row = this.d.repo.sentById(id);
      if (row) return row;
    }
    this.resendIds = [];
    this.resendHead = 0;
    return undefined;
  }

  /** Backlog rows come from a prefetch buffer: one query per few hundred messages. */
  private nextBacklog(): OutboxRow | undefined {
    if (this.bufferGen !== this.d.outbox.generation) {
      // Rows may have been shed: re-read from the lowest buffered id (the buffer is reversed).
      const first = this.buffer.at(-1);
      if (first) this.backlogCursor = first.id - 1;
      this.buffer = [];
      this.bufferGen = this.d.outbox.generation;
    }
    if (this.buffer.length === 0) {
      if (this.backlogCursor >= this.floor) return undefined;
      this.buffer = this.d.repo.after(this.backlogCursor, this.floor, 256);
      const last = this.buffer.at(-1);
      this.backlogCursor = last ? last.id : this.floor;
      // Reverse so shift() is a cheap pop().
      this.buffer.reverse();
    }
    return this.buffer.pop();
  }

  private send(sender: Sender, row: OutboxRow, historical: boolean, again = false): void {
    const epoch = this.epoch;
    this.inflight.add(row.id);
    this.d.outbox.busy.add(row.id);
    const meta = { id: row.id, class: row.class, bytes: row.bytes };
    sender.publish(row.topic, historical ? markHistorical(row.payload) : row.payload, (err) => {
      if (epoch !== this.epoch) return;
      this.inflight.delete(row.id);
      if (again) {
        // A republished kept row: nothing to mark. Lost on the way, the regency asks again.
        this.d.outbox.busy.delete(row.id);
        if (!err) this.resent++;
      } else if (err) {
        // Not acknowledged: it goes again, as backlog, after the next connect.
        this.d.outbox.busy.delete(row.id);
        this.d.log.debug({ err, id: row.id }, 'publish failed');
      } else {
        this.d.outbox.ack(meta);
      }
      this.kick();
    });
  }

  private releaseInflight(): void {
    for (const id of this.inflight) this.d.outbox.busy.delete(id);
    this.inflight.clear();
  }

  private bucketSize(): number {
    return Math.max(1, Math.ceil(this.d.drainPerS / 10));
  }

  /** Token bucket for drain_per_s; arms a refill wake-up when empty. */
  private takeTokens(): number {
    if (this.unpaced) return Number.MAX_SAFE_INTEGER;
    const now = this.d.clock.monoMs();
    this.tokens = Math.min(
      this.bucketSize(),
      this.tokens + ((now - this.lastRefill) * this.d.drainPerS) / 1000,
    );
    this.lastRefill = now;
    const whole = Math.floor(this.tokens);
    if (whole <= 0 && !this.refillTimer) {
      const waitMs = Math.max(1, Math.ceil(((1 - this.tokens) * 1000) / this.d.drainPerS));
      this.refillTimer = this.d.scheduler.after('outbox-drain-pace', waitMs, () => {
        this.refillTimer = undefined;
        this.kick();
      });
    }
    return whole;
  }
}
