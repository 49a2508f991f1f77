/**
 * Where a message stands in one village's own order: the rank of its boot (the order in
 * which the regency first heard of that boot) and its seq within the boot.
 *
 * Why not the message's `ts`: a box has no real-time clock, so its wall clock may be a year
 * off until NTP answers, and jumps when it does. Why not the seq alone: `seq` grows across
 * restarts, but a power cut can roll the gateway's counter back (seq reuse) or, with a new
 * SD card, to 1. Within one boot the seq is strictly increasing, so it orders exactly; across
 * boots, a boot heard of later is a later run of the daemon (each start publishes its birth
 * `status` before anything else, and historical replays never introduce a boot).
 */
export interface Position {
  rank: number;
  seq: number;
}

/** a is newer than b (null: nothing applied yet, everything is newer). */
export function newer(a: Position, b: Position | null): boolean {
  if (b === null) return true;
  return a.rank > b.rank || (a.rank === b.rank && a.seq > b.seq);
}

export function position(rank: number | null, seq: number | null): Position | null {
  return rank === null || seq === null ? null : { rank: Number(rank), seq: Number(seq) };
}

/**
 * The boot ranks of one village during a commit: loaded with the batch (the village row is
 * locked first, so two collectors cannot hand out the same rank), extended in memory, and
 * the boots first heard in this commit written back with the batch.
 */
export class BootRanks {
  private readonly known: Map<string, number>;
  /** Boots first heard in this commit, in the order they were ranked. */
  readonly added: Array<{ boot: string; rank: number; firstMs: number }> = [];

  constructor(known: ReadonlyMap<string, number>) {
    this.known = new Map(known);
  }

  /** The boot's rank, or null when it was never heard of live. */
  peek(boot: string): number | null {
    return this.known.get(boot) ?? null;
  }

  /** The boot's rank; a boot heard of for the first time ranks above every other. */
  rank(boot: string, atMs: number): number {
    const had = this.known.get(boot);
    if (had !== undefined) return had;
    const next = Math.max(0, ...this.known.values()) + 1;
    this.added.push({ boot, rank: next, firstMs: atMs });
    this.known.set(boot, next);
    return next;
  }
}
