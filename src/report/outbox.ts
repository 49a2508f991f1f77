import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { Scheduler } from '../core/scheduler.js';
import type { Store } from '../store/store.js';
import { compactHealth } from './compact.js';
import { type Envelope, encodeEnvelope, uuidv7 } from './envelope.js';
import { samplesIn, writeAckedRows } from './outbox-acks.js';
import type { OutboxRepo, RowMeta } from './outbox-repo.js';
import { CLASS_RANK, CLASSES, type MessageClass, type Topics } from './topics.js';

/** What the outbox needs of the store (the fleet simulator runs it on an in-memory database). */
export type OutboxStore = Pick<Store, 'db' | 'batch' | 'durable'>;

export interface OutboxDeps {
  store: OutboxStore;
  repo: OutboxRepo;
  clock: Clock;
  scheduler: Scheduler;
  log: Logger;
  topics: Topics;
  gw: string;
  boot: string;
  maxBytes: number;
  /**
   * How long an envelope is kept after its PUBACK for the regency's `resend` (mqtt.resend_days);
   * 0 deletes it at PUBACK. Kept rows count against maxBytes and are the first to go.
   */
  keepMs?: number;
  /** Called after every change of depth or drop counts (status, pump). */
  onChange(): void;
}

const ACK_FLUSH_ROWS = 512;
/**
 * How long an acknowledgement may wait to be written. Until then it rides along with the next
 * insert's commit: at the live rate (a health message a minute) the PUBACK's page writes then
 * cost nothing of their own, which halves the outbox's share of the SD card's daily writes. A
 * kill -9 before the write only re-sends those envelopes; the regency drops them by id.
 */
const ACK_FLUSH_MS = 60_000;

/**
 * The durable outbox: every non-retained message is a row before it is published, and is
 * deleted only after its PUBACK — or, with `keepMs`, marked sent and kept that long for gap
 * repair, then pruned in bulk. Enforces `outbox_max_mb` by shedding kept rows first, then
 * compacting health samples, then shedding the lowest class present; every drop is counted
 * in report_counters.
 */
export class Outbox {
  private readonly d: OutboxDeps;
  private readonly count = new Map<MessageClass, number>();
  private bytesTotal = 0;
  private readonly dropped = new Map<MessageClass, number>();
  /** Rows that must not be shed or compacted: in flight, or acknowledged but not yet deleted. */
  readonly busy = new Set<number>();
  private acked: RowMeta[] = [];
  private ackTimer: { cancel(): void } | undefined;
  private healthAtLastCompact = -1;
  /** Highest row id inserted (lets the pump skip querying for live rows when none are new). */
  lastId = 0;
  /** Bumped whenever rows are removed other than by PUBACK (shedding, compaction). */
  generation = 0;
  /** Sum of all drop counters. */
  dropTotal = 0;
  private sentRows = 0;
  private sentBytes = 0;
  private sentShed = 0;
  private sentPruned = 0;

  constructor(deps: OutboxDeps) {
    this.d = deps;
  }

  start(): void {
    for (const c of CLASSES) this.count.set(c, 0);
    this.bytesTotal = 0;
    this.lastId = this.d.repo.maxId();
    for (const t of this.d.repo.totals()) {
      this.count.set(t.class, t.n);
      this.bytesTotal += t.bytes;
    }
    const counters = this.d.repo.counters();
    for (const c of CLASSES) this.dropped.set(c, counters.get(`drop.${c}`) ?? 0);
    this.dropTotal = [...this.dropped.values()].reduce((a, b) => a + b, 0);
    this.sentShed = counters.get('sent.shed') ?? 0;
    this.sentPruned = counters.get('sent.pruned') ?? 0;
    const sent = this.d.repo.sentTotals();
    this.sentRows = sent.n;
    this.sentBytes = sent.bytes;
  }

  get keeping(): boolean {
    return (this.d.keepMs ?? 0) > 0;
  }

  stop(): void {
    this.flushAcks();
  }

  /**
   * Stores one message. Acknowledged classes commit with fsync (store.durable); health uses
   * store.batch. Inside a caller's open transaction it joins that transaction, so a producer
   * can make "stored" and "queued for the regency" one atomic commit. Returns the envelope,
   * or undefined when the message itself was shed (outbox full of higher classes).
   */
  enqueue<T>(cls: MessageClass, data: T): Envelope<T> | undefined {
    const db = this.d.store.db;
    let out: Envelope<T> | undefined;
    if (db.inTransaction) {
      // A caller's transaction: waiting acknowledgements stay out of it (it may roll back).
      out = this.insert(cls, data);
      // The caller's transaction may still roll back (e.g. disk full): check once it is over
      // (better-sqlite3 transactions are synchronous, so a microtask runs after the outcome).
      const id = this.lastId;
      if (out) queueMicrotask(() => this.verifyInserted(id));
    } else {
      // Waiting acknowledgements share this commit: the same leaf pages, written once.
      let acks: RowMeta[] = [];
      const work = (): Envelope<T> | undefined => {
        acks = this.writeAcks();
        return this.insert(cls, data);
      };
      out = this.committingAcks(
        () => acks,
        () => (cls === 'health' ? this.d.store.batch(work) : this.d.store.durable(work)),
      );
    }
    this.d.onChange();
    return out;
  }

  /**
   * Runs a commit that wrote `acks()`: once it is done they are no longer busy; if it throws
   * (disk full, I/O error) they are still unsent in the table, so they wait again and the
   * counters are taken from the table anew.
   */
  private committingAcks<R>(acks: () => RowMeta[], run: () => R): R {
    let out: R;
    try {
      out = run();
    } catch (err) {
      const back = acks();
      if (back.length > 0) {
        this.acked = back.concat(this.acked);
        this.resync();
        this.ackTimer ??= this.d.scheduler.after('outbox-ack-flush', ACK_FLUSH_MS, () => this.flushAcks());
      }
      throw err;
    }
    for (const r of acks()) this.busy.delete(r.id);
    return out;
  }

  private insert<T>(cls: MessageClass, data: T): Envelope<T> | undefined {
    const wall = this.d.clock.wallMs();
    // Size the row before allocating a seq: a message refused for space leaves no gap.
    const probe = encodeEnvelope(this.envelope(0, '00000000-0000-7000-8000-000000000000', wall, data));
    const estimate = Buffer.byteLength(probe) + 16;
    if (!this.makeRoom(cls, estimate)) {
      this.addDrop(cls, 1);
      return undefined;
    }
    const seq = this.d.repo.nextSeq();
    const env = this.envelope(seq, uuidv7(wall), wall, data);
    const payload = encodeEnvelope(env);
    const bytes = Buffer.byteLength(payload);
    this.lastId = this.d.repo.insert({
      seq,
      msg_id: env.id,
      class: cls,
      topic: this.d.topics.forClass(cls),
      payload,
      bytes,
      created_wall: wall,
    });
    this.count.set(cls, (this.count.get(cls) ?? 0) + 1);
    this.bytesTotal += bytes;
    return env;
  }

  private envelope<T>(seq: number, id: string, wall: number, data: T): Envelope<T> {
    return {
      v: 1,
      gw: this.d.gw,
      boot: this.d.boot,
      seq,
      id,
      ts: new Date(wall).toISOString(),
      clock_synced: this.d.clock.synced(),
      historical: false,
      data,
    };
  }

  /** Frees space for `bytes` of class `cls`; false when the new message itself must go. */
  private makeRoom(cls: MessageClass, bytes: number): boolean {
    if (this.bytesTotal + this.sentBytes + bytes <= this.d.maxBytes) return true;
    // What the regency already has goes before anything it has not seen yet.
    while (this.sentRows > 0 && this.bytesTotal + this.sentBytes + bytes > this.d.maxBytes) {
      const gone = this.d.repo.shedSent(64);
      if (gone.length === 0) {
        this.sentRows = 0;
        this.sentBytes = 0;
        break;
      }
      this.forgetSent(gone, 'shed');
    }
    if (this.bytesTotal + this.sentBytes + bytes <= this.d.maxBytes) return true;
    const health = this.count.get('health') ?? 0;
    if (health > 1 && health !== this.healthAtLastCompact) {
      const r = compactHealth(this.d.repo, this.busy);
      this.generation++;
      this.bytesTotal -= r.freedBytes;
      this.count.set('health', health - r.removedRows);
      this.healthAtLastCompact = this.count.get('health') ?? 0;
      if (r.removedRows > 0) this.d.log.info({ folded: r.removedRows }, 'outbox: compacted health backlog');
      if (this.bytesTotal + this.sentBytes + bytes <= this.d.maxBytes) return true;
    }
    for (const victim of [...CLASSES].sort((a, b) => CLASS_RANK[a] - CLASS_RANK[b])) {
      if (CLASS_RANK[victim] > CLASS_RANK[cls]) return false;
      let after = 0;
      while (
        this.bytesTotal + this.sentBytes + bytes > this.d.maxBytes &&
        (this.count.get(victim) ?? 0) > 0
      ) {
        const rows = this.d.repo.oldestOf(victim, after, 64);
        if (rows.length === 0) break;
        for (const r of rows) {
          after = r.id;
          if (this.busy.has(r.id) || !this.d.repo.delete(r.id)) continue;
          this.generation++;
          this.count.set(victim, (this.count.get(victim) ?? 0) - 1);
          this.bytesTotal -= r.bytes;
          // A health summary stands for several samples: count each one lost.
          this.addDrop(victim, victim === 'health' ? samplesIn(r.payload) : 1);
          if (this.bytesTotal + this.sentBytes + bytes <= this.d.maxBytes) return true;
        }
      }
    }
    return this.bytesTotal + this.sentBytes + bytes <= this.d.maxBytes;
  }

  private addDrop(cls: MessageClass, n: number): void {
    this.d.repo.addCounter(`drop.${cls}`, n);
    this.dropped.set(cls, (this.dropped.get(cls) ?? 0) + n);
    this.dropTotal += n;
  }

  /**
   * PUBACK received: counted as delivered at once (depth, status); the row is deleted (or
   * marked sent, when keeping) with the next insert's commit, or after ACK_FLUSH_MS, or at
   * once when ACK_FLUSH_ROWS are waiting (a backlog drain). Until then it stays busy: never
   * re-published, shed or compacted. A lost write only re-sends.
   */
  ack(row: RowMeta): void {
    this.acked.push(row);
    this.countAcked(row);
    this.d.onChange();
    if (this.acked.length >= ACK_FLUSH_ROWS) this.flushAcks();
    else this.ackTimer ??= this.d.scheduler.after('outbox-ack-flush', ACK_FLUSH_MS, () => this.flushAcks());
  }

  /** Writes the waiting acknowledgements now, in their own commit (timer, stop, resend). */
  flushAcks(): void {
    if (this.acked.length === 0) {
      this.ackTimer?.cancel();
      this.ackTimer = undefined;
      return;
    }
    let acks: RowMeta[] = [];
    this.committingAcks(
      () => acks,
      () =>
        this.d.store.batch(() => {
          acks = this.writeAcks();
        }),
    );
    this.d.onChange();
  }

  private countAcked(r: RowMeta): void {
    this.count.set(r.class, (this.count.get(r.class) ?? 0) - 1);
    this.bytesTotal -= r.bytes;
    if (this.keeping) {
      this.sentRows++;
      this.sentBytes += r.bytes;
    }
  }

  /**
   * Marks (or deletes) the acknowledged rows inside the caller's transaction; returns them.
   * They stay busy until that transaction has committed (committingAcks).
   */
  private writeAcks(): RowMeta[] {
    this.ackTimer?.cancel();
    this.ackTimer = undefined;
    const rows = this.acked;
    if (rows.length === 0) return rows;
    this.acked = [];
    rows.sort((a, b) => a.id - b.id);
    if (!writeAckedRows(this.d.repo, rows, this.keeping, this.d.clock.wallMs())) this.resync();
    return rows;
  }

  /**
   * Deletes kept rows acknowledged more than keepMs ago: one statement for all of them (the
   * caller runs it hourly), so retention costs a few page writes an hour, not one per message.
   */
  pruneSent(): number {
    if (this.sentRows === 0 || !this.keeping) return 0;
    const cutoff = this.d.clock.wallMs() - (this.d.keepMs ?? 0);
    const n = this.d.store.batch(() => this.forgetSent(this.d.repo.pruneSent(cutoff), 'pruned'));
    if (n > 0) this.d.onChange();
    return n;
  }

  /** Accounts for kept rows just deleted (inside the deleting transaction); returns how many. */
  private forgetSent(gone: number[], why: 'shed' | 'pruned'): number {
    if (gone.length === 0) return 0;
    this.sentRows = Math.max(0, this.sentRows - gone.length);
    for (const b of gone) this.sentBytes -= b;
    if (this.sentRows === 0 || this.sentBytes < 0) this.sentBytes = Math.max(0, this.sentBytes);
    this.d.repo.addCounter(`sent.${why}`, gone.length);
    if (why === 'shed') this.sentShed += gone.length;
    else this.sentPruned += gone.length;
    return gone.length;
  }

  /** Kept envelopes (status `outbox.sent`). */
  sent(): { rows: number; bytes: number; shed: number; pruned: number } {
    return { rows: this.sentRows, bytes: this.sentBytes, shed: this.sentShed, pruned: this.sentPruned };
  }

  private verifyInserted(id: number): void {
    try {
      if (!this.d.repo.exists(id)) this.resync();
    } catch (err) {
      this.d.log.warn({ err }, 'outbox: could not verify a joined insert');
    }
  }

  /** Recounts from the table (only if an ack ever finds its row already gone). */
  private resync(): void {
    this.d.log.warn('outbox: counters out of step (rolled back or missing rows), recounting');
    this.lastId = Math.max(this.lastId, this.d.repo.maxId());
    this.dropped.clear();
    const counters = this.d.repo.counters();
    for (const c of CLASSES) this.dropped.set(c, counters.get(`drop.${c}`) ?? 0);
    this.dropTotal = [...this.dropped.values()].reduce((a, b) => a + b, 0);
    for (const c of CLASSES) this.count.set(c, 0);
    this.bytesTotal = 0;
    for (const t of this.d.repo.totals()) {
      this.count.set(t.class, t.n);
      this.bytesTotal += t.bytes;
    }
    const sent = this.d.repo.sentTotals();
    this.sentRows = sent.n;
    this.sentBytes = sent.bytes;
    // Acknowledged but not yet written: the table still holds them as unsent.
    for (const r of this.acked) this.countAcked(r);
  }

  depth(): number {
    let n = 0;
    for (const v of this.count.values()) n += v;
    return n;
  }

  bytes(): number {
    return this.bytesTotal;
  }

  drops(): Record<MessageClass, number> {
    return Object.fromEntries(CLASSES.map((c) => [c, this.dropped.get(c) ?? 0])) as Record<
      MessageClass,
      number
    >;
  }

  oldestAgeS(): number | null {
    if (this.depth() === 0) return null;
    // Acknowledged rows still unsent in the table until the next commit do not count.
    const w = this.d.repo.oldestWall(new Set(this.acked.map((r) => r.id)));
    return w === undefined ? null : Math.max(0, Math.round((this.d.clock.wallMs() - w) / 1000));
  }
}
