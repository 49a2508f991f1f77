import type { TickWriter } from '../store/write-tick.js';
import { type Envelope, encodeEnvelope, NIL_ID, newEnvelope, rowSize, uuidv7 } from './envelope.js';
import { writeAckedRows } from './outbox-acks.js';
import type { OutboxDeps } from './outbox-deps.js';
import { PendingHealth } from './outbox-pending.js';
import type { OutboxRow, RowMeta } from './outbox-repo.js';
import { makeRoom } from './outbox-room.js';
import { OutboxTally } from './outbox-tally.js';
import type { MessageClass } from './topics.js';

export type { OutboxDeps, OutboxStore } from './outbox-deps.js';

const ACK_FLUSH_ROWS = 512;
/**
 * How long an acknowledgement may wait to be written. Until then it rides along with the next
 * insert's commit: at the live rate (a health message a minute) the PUBACK's page writes then
 * cost nothing of their own, which halves the outbox's share of the SD card's daily writes. A
 * kill -9 before the write only re-sends those envelopes; the regency drops them by id.
 */
const ACK_FLUSH_MS = 60_000;

/**
 * The durable outbox: every non-retained message is a row before it is published (health
 * while connected: written behind, see deferHealthMs), and is deleted only after its PUBACK —
 * or, with `keepMs`, marked sent and kept that long for gap repair, then pruned in bulk.
 * Enforces `outbox_max_mb` by shedding kept rows first, then compacting health samples, then
 * shedding the lowest class present; every drop is counted in report_counters.
 */
export class Outbox {
  private readonly d: OutboxDeps;
  private readonly tally = new OutboxTally();
  /** Rows that must not be shed or compacted: in flight, or acknowledged but not yet deleted. */
  readonly busy = new Set<number>();
  private acked: RowMeta[] = [];
  private ackTimer: { cancel(): void } | undefined;
  /** Health count at the last compaction (outbox-room.ts: compacting again only once it grew). */
  private readonly compacted = { health: -1 };
  private readonly pending: PendingHealth;
  /** Health is written behind only while connected: offline it is backlog, stored at once. */
  private deferring = false;
  private stopping = false;
  /** Highest row id inserted (lets the pump skip querying for live rows when none are new). */
  lastId = 0;
  /** Bumped whenever rows are removed other than by PUBACK (shedding, compaction). */
  generation = 0;

  constructor(deps: OutboxDeps) {
    this.d = deps;
    // Unset, nothing is held; the window then only paces a retry after a failed write.
    this.pending = new PendingHealth(deps.scheduler, deps.deferHealthMs || 60_000);
  }

  start(): void {
    this.lastId = this.d.repo.maxId();
    this.tally.load(this.d.repo);
  }

  private envelopeOf<T>(seq: number, id: string, wall: number, data: T): Envelope<T> {
    return newEnvelope(
      { gw: this.d.gw, boot: this.d.boot, synced: this.d.clock.synced() },
      seq,
      id,
      wall,
      data,
    );
  }

  /** Sum of all drop counters. */
  get dropTotal(): number {
    return this.tally.dropTotal;
  }

  get keeping(): boolean {
    return (this.d.keepMs ?? 0) > 0;
  }

  stop(): void {
    this.stopping = true;
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
    let out: Envelope<T> | undefined =
      cls === 'health' && this.deferring && !db.inTransaction ? this.insertPending(data) : undefined;
    if (out) {
      // Held in memory (written behind).
    } else if (db.inTransaction) {
      // A caller's transaction: waiting acknowledgements stay out of it (it may roll back).
      out = this.insert(cls, data);
      // The caller's transaction may still roll back (e.g. disk full): check once it is over
      // (better-sqlite3 transactions are synchronous, so a microtask runs after the outcome).
      const id = this.lastId;
      if (out) queueMicrotask(() => this.verifyInserted(id));
    } else {
      // Waiting acknowledgements share this commit: the same leaf pages, written once.
      let acks: RowMeta[] = [];
      // Health written behind goes first: it holds the older seqs.
      const work = (): Envelope<T> | undefined => {
        acks = this.writeAcks();
        this.pending.writeTo(this.d.repo, this.keeping);
        return this.insert(cls, data);
      };
      out = this.committingAcks(
        () => acks,
        () => (cls === 'health' ? this.d.store.batch(work) : this.d.store.durable(work)),
      );
      this.pending.clear();
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
      this.settleAcks(acks(), false);
      throw err;
    }
    this.settleAcks(acks(), true);
    return out;
  }

  /**
   * After the commit that wrote `acks`: done, they are no longer busy; failed, they wait again
   * and whatever the rolled-back transaction counted (a row, drops, shed rows) is recounted.
   */
  private settleAcks(acks: readonly RowMeta[], ok: boolean): void {
    if (ok) {
      for (const r of acks) this.busy.delete(r.id);
      return;
    }
    if (acks.length > 0) {
      this.acked = [...acks, ...this.acked];
      this.ackTimer ??= this.d.scheduler.after('outbox-ack-flush', ACK_FLUSH_MS, () => this.flushAcks());
    }
    this.resync();
  }

  /**
   * A health message kept in memory until the next commit (deferHealthMs); undefined when it
   * does not fit under the cap as it is (the stored path then makes room).
   */
  private insertPending<T>(data: T): Envelope<T> | undefined {
    const wall = this.d.clock.wallMs();
    if (this.tally.total() + rowSize(this.envelopeOf(0, NIL_ID, wall, data)) > this.d.maxBytes)
      return undefined;
    const seq = this.nextSeq();
    const env = this.envelopeOf(seq, uuidv7(wall), wall, data);
    const payload = encodeEnvelope(env);
    const row = { id: seq, seq, msg_id: env.id, class: 'health' as const, payload, created_wall: wall };
    this.pending.add({ ...row, topic: this.d.topics.forClass('health'), bytes: Buffer.byteLength(payload) });
    this.lastId = seq;
    this.tally.added('health', Buffer.byteLength(payload));
    this.pending.arm(() => this.writePending());
    return env;
  }

  /** Connected (the pump attached) or not: health held in memory is stored when the link goes. */
  setLive(live: boolean): void {
    this.deferring = live && (this.d.deferHealthMs ?? 0) > 0;
    if (!live) this.writePending();
  }

  /** The next seq: past the table's counter and past health held in memory. */
  private nextSeq(): number {
    return Math.max(this.d.repo.nextSeq(), this.pending.maxSeq() + 1);
  }

  /**
   * Stores the health held in memory now, in one commit with any waiting acknowledgements
   * (timer, link lost, stop, resend). A failed commit (disk full) keeps them for the next try.
   */
  writePending(): void {
    if (this.pending.size === 0) return;
    try {
      this.commitAcks(() => this.pending.writeTo(this.d.repo, this.keeping));
      this.pending.clear();
    } catch (err) {
      if (this.stopping) {
        this.d.log.error({ err, rows: this.pending.size }, 'outbox: health held in memory lost at stop');
      } else {
        this.d.log.warn({ err, rows: this.pending.size }, 'outbox: could not store health yet; will retry');
        this.pending.arm(() => this.writePending());
      }
    }
    this.d.onChange();
  }

  /** Unsent rows with id > afterId, oldest first (the pump's live path): table and memory. */
  liveAfter(afterId: number, limit: number): OutboxRow[] {
    return this.pending.merged(this.d.repo.after(afterId, Number.MAX_SAFE_INTEGER, limit), afterId, limit);
  }

  private insert<T>(cls: MessageClass, data: T): Envelope<T> | undefined {
    const wall = this.d.clock.wallMs();
    // Size the row before allocating a seq: a message refused for space leaves no gap.
    if (!this.makeRoom(cls, rowSize(this.envelopeOf(0, NIL_ID, wall, data)))) {
      this.tally.drop(this.d.repo, cls, 1);
      return undefined;
    }
    const seq = this.nextSeq();
    const env = this.envelopeOf(seq, uuidv7(wall), wall, data);
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
    this.tally.added(cls, bytes);
    return env;
  }

  /** Frees space for `bytes` of class `cls` (outbox-room.ts); false when the new message itself must go. */
  private makeRoom(cls: MessageClass, bytes: number): boolean {
    return makeRoom(
      {
        tally: this.tally,
        repo: this.d.repo,
        busy: this.busy,
        log: this.d.log,
        maxBytes: this.d.maxBytes,
        compacted: this.compacted,
        heldSent: () => (this.keeping ? this.pending.acknowledged() : []),
        removed: () => {
          this.generation++;
        },
      },
      cls,
      bytes,
    );
  }

  /**
   * PUBACK received: counted as delivered at once (depth, status); the row is deleted (or
   * marked sent, when keeping) with the next insert's commit, or after ACK_FLUSH_MS, or at
   * once when ACK_FLUSH_ROWS are waiting (a backlog drain). Until then it stays busy: never
   * re-published, shed or compacted. A lost write only re-sends.
   */
  ack(row: RowMeta): void {
    if (this.pending.ack(row, this.d.clock.wallMs())) {
      // Held in memory: stored as acknowledged when it is written (nothing to write now).
      this.tally.acked(row, this.keeping);
      this.busy.delete(row.id);
      this.d.onChange();
      return;
    }
    this.acked.push(row);
    this.tally.acked(row, this.keeping);
    this.d.onChange();
    if (this.acked.length >= ACK_FLUSH_ROWS) this.flushAcks();
    else this.ackTimer ??= this.d.scheduler.after('outbox-ack-flush', ACK_FLUSH_MS, () => this.flushAcks());
  }

  /**
   * The write tick's part (src/store/write-tick.ts): the held health and the waiting
   * acknowledgements go into the tick's one commit with the other periodic writers, instead of
   * a commit of their own. As in commitAcks: until the commit is known they stay held (a failed
   * commit leaves them for the next try) and the acknowledged rows stay busy.
   */
  tickWriter(): TickWriter {
    let acks: RowMeta[] = [];
    let held = 0;
    return {
      name: 'outbox',
      write: () => {
        acks = this.writeAcks();
        held = this.pending.size;
        if (held > 0) this.pending.writeTo(this.d.repo, this.keeping);
      },
      settled: (ok) => {
        const [mine, wrote] = [acks, held];
        [acks, held] = [[], 0];
        if (mine.length === 0 && wrote === 0) return;
        this.settleAcks(mine, ok);
        if (ok && wrote > 0) this.pending.clear();
        this.d.onChange();
      },
    };
  }

  /** Writes the waiting acknowledgements and held health now, in their own commit (timer, stop, resend). */
  flushAcks(): void {
    if (this.pending.size > 0) {
      this.writePending();
      return;
    }
    if (this.acked.length === 0) {
      this.ackTimer?.cancel();
      this.ackTimer = undefined;
      return;
    }
    this.commitAcks();
    this.d.onChange();
  }

  /** One commit of the waiting acknowledgements, and `also` in the same transaction. */
  private commitAcks(also?: () => void): void {
    let acks: RowMeta[] = [];
    const work = () => {
      acks = this.writeAcks();
      also?.();
    };
    this.committingAcks(
      () => acks,
      () => this.d.store.batch(work),
    );
  }

  /** Marks (or deletes) the acknowledged rows in the caller's transaction: busy until it commits. */
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
    if (this.tally.sentRows === 0 || !this.keeping) return 0;
    const cutoff = this.d.clock.wallMs() - (this.d.keepMs ?? 0);
    const n = this.d.store.batch(() =>
      this.tally.forgetSent(this.d.repo, this.d.repo.pruneSent(cutoff), 'pruned'),
    );
    if (n > 0) this.d.onChange();
    return n;
  }

  /** Kept envelopes (status `outbox.sent`). */
  sent(): { rows: number; bytes: number; shed: number; pruned: number } {
    return this.tally.sent();
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
    this.tally.load(this.d.repo);
    // Acknowledged but not yet written: the table still holds them as unsent.
    for (const r of this.acked) this.tally.acked(r, this.keeping);
    // Health held in memory: still waiting, or acknowledged and kept once written.
    for (const r of this.pending.waiting()) this.tally.added('health', r.bytes);
    if (this.keeping) for (const r of this.pending.acknowledged()) this.tally.keptHeld(r.bytes);
  }

  depth(): number {
    return this.tally.depth();
  }

  bytes(): number {
    return this.tally.bytes();
  }

  drops(): Record<MessageClass, number> {
    return this.tally.drops();
  }

  oldestAgeS(): number | null {
    if (this.depth() === 0) return null;
    // Acknowledged rows still unsent in the table until the next commit do not count.
    const table = this.d.repo.oldestWall(new Set(this.acked.map((r) => r.id)));
    const w = Math.min(table ?? Infinity, this.pending.waiting()[0]?.created_wall ?? Infinity);
    return w === Infinity ? null : Math.max(0, Math.round((this.d.clock.wallMs() - w) / 1000));
  }
}
