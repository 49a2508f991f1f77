import type { Transaction } from 'kysely';
import type { RegencyTables } from './schema.js';

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

type Trx = Transaction<RegencyTables>;

/**
 * The boot ranks of one village, read and extended inside the ingest transaction (the
 * village row is locked first, so two collectors cannot hand out the same rank).
 */
export class BootRanks {
  private readonly gw: string;
  private readonly trx: Trx;
  private known: Map<string, number> | undefined;

  constructor(trx: Trx, gw: string) {
    this.trx = trx;
    this.gw = gw;
  }

  private async load(): Promise<Map<string, number>> {
    if (!this.known) {
      const rows = await this.trx
        .selectFrom('village_boots')
        .select(['boot', 'rank'])
        .where('gw', '=', this.gw)
        .execute();
      this.known = new Map(rows.map((r) => [r.boot, Number(r.rank)]));
    }
    return this.known;
  }

  /** The boot's rank, or null when it was never heard of live. */
  async peek(boot: string): Promise<number | null> {
    return (await this.load()).get(boot) ?? null;
  }

  /** The boot's rank; a boot heard of for the first time ranks above every other. */
  async rank(boot: string, atMs: number): Promise<number> {
    const known = await this.load();
    const had = known.get(boot);
    if (had !== undefined) return had;
    const next = Math.max(0, ...known.values()) + 1;
    await this.trx
      .insertInto('village_boots')
      .values({ gw: this.gw, boot, rank: next, first_ms: atMs })
      .execute();
    known.set(boot, next);
    return next;
  }
}
