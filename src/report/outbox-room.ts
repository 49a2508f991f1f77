import type { Logger } from '../core/logger.js';
import { compactHealth } from './compact.js';
import { samplesIn } from './outbox-acks.js';
import type { OutboxRepo } from './outbox-repo.js';
import type { OutboxTally } from './outbox-tally.js';
import { CLASS_RANK, CLASSES, type MessageClass } from './topics.js';

export interface RoomContext {
  tally: OutboxTally;
  repo: OutboxRepo;
  /** Rows in flight or acknowledged and not yet written: never shed or compacted. */
  busy: ReadonlySet<number>;
  log: Logger;
  maxBytes: number;
  /** Health count at the last compaction: compacting again only once it has grown. */
  compacted: { health: number };
  /** Kept rows acknowledged and held in memory (not in the table: never shed here). */
  heldSent(): ReadonlyArray<{ bytes: number }>;
  /** Called when unsent rows went other than by PUBACK (the pump re-reads its prefetch). */
  removed(): void;
}

/**
 * The cap (outbox_max_mb), inside the caller's transaction: frees room for `bytes` of class
 * `cls`. Kept envelopes go first (the regency has them), then the health backlog is folded
 * into summaries, then the oldest rows of the lowest class present go, never a class above
 * `cls`; every message lost is counted. False when the new message itself must go.
 */
export function makeRoom(c: RoomContext, cls: MessageClass, bytes: number): boolean {
  const t = c.tally;
  const fits = () => t.total() + bytes <= c.maxBytes;
  if (fits()) return true;
  while (t.sentRows > c.heldSent().length && !fits()) {
    const gone = c.repo.shedSent(64);
    if (gone.length === 0) {
      t.noneSent(c.heldSent());
      break;
    }
    t.forgetSent(c.repo, gone, 'shed');
  }
  if (fits()) return true;
  const health = t.of('health');
  if (health > 1 && health !== c.compacted.health) {
    const r = compactHealth(c.repo, c.busy);
    c.removed();
    t.removed('health', r.removedRows, r.freedBytes);
    c.compacted.health = t.of('health');
    if (r.removedRows > 0) c.log.info({ folded: r.removedRows }, 'outbox: compacted health backlog');
    if (fits()) return true;
  }
  for (const victim of [...CLASSES].sort((a, b) => CLASS_RANK[a] - CLASS_RANK[b])) {
    if (CLASS_RANK[victim] > CLASS_RANK[cls]) return false;
    let after = 0;
    while (!fits() && t.of(victim) > 0) {
      const rows = c.repo.oldestOf(victim, after, 64);
      if (rows.length === 0) break;
      for (const r of rows) {
        after = r.id;
        if (c.busy.has(r.id) || !c.repo.delete(r.id)) continue;
        c.removed();
        t.removed(victim, 1, r.bytes);
        // A health summary stands for several samples: count each one lost.
        t.drop(c.repo, victim, victim === 'health' ? samplesIn(r.payload) : 1);
        if (fits()) return true;
      }
    }
  }
  return fits();
}
