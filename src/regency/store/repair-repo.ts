import type { Kysely, Transaction } from 'kysely';
import type { SeqRange } from '../../report/resend-args.js';
import type { Dialect, RegencyTables } from './schema.js';

export interface DueGap {
  id: number;
  gw: string;
  lo: number;
  hi: number;
  asks: number;
}

type Trx = Transaction<RegencyTables>;

/**
 * The repair loop's view of the seq ledger: open gaps old enough to ask for, the claim
 * written before a `resend` leaves, and the gateway's `missing` answer turned into
 * unrepairable gaps. Every write locks the village row first, as ingest does, so a repair
 * and an arriving envelope never edit the same gap at once.
 */
export class RepairRepo {
  private readonly db: Kysely<RegencyTables>;
  private readonly dialect: Dialect;

  constructor(deps: { db: Kysely<RegencyTables>; dialect: Dialect }) {
    this.db = deps.db;
    this.dialect = deps.dialect;
  }

  /** Open gaps opened at or before `openedBefore` and not claimed past `nowMs`, per village. */
  async due(nowMs: number, openedBefore: number, limit: number): Promise<Map<string, DueGap[]>> {
    const rows = await this.db
      .selectFrom('seq_gaps')
      .select(['id', 'gw', 'lo', 'hi', 'asks'])
      .where('state', '=', 'open')
      .where('opened_ms', '<=', openedBefore)
      .where((eb) => eb.or([eb('next_ask_ms', 'is', null), eb('next_ask_ms', '<=', nowMs)]))
      .orderBy('gw')
      .orderBy('lo')
      .limit(limit)
      .execute();
    const out = new Map<string, DueGap[]>();
    for (const r of rows) {
      const list = out.get(r.gw);
      if (list) list.push(r);
      else out.set(r.gw, [r]);
    }
    return out;
  }

  /** Marks gaps as asked for (asks + 1, not again before nextMs); returns the ids claimed. */
  async claim(gw: string, gaps: readonly DueGap[], nowMs: number, nextMs: number): Promise<number[]> {
    return this.db.transaction().execute(async (trx) => {
      await this.lockVillage(trx, gw);
      const claimed: number[] = [];
      for (const g of gaps) {
        const r = await trx
          .updateTable('seq_gaps')
          .set({ asks: g.asks + 1, next_ask_ms: nextMs })
          .where('id', '=', g.id)
          .where('state', '=', 'open')
          .where((eb) => eb.or([eb('next_ask_ms', 'is', null), eb('next_ask_ms', '<=', nowMs)]))
          .executeTakeFirst();
        if (Number(r.numUpdatedRows) > 0) claimed.push(g.id);
      }
      return claimed;
    });
  }

  /**
   * The gateway no longer has these seqs: the parts of open gaps they cover become
   * unrepairable rows (closed now); what remains of a gap stays open as it was.
   */
  async unrepairable(gw: string, missing: readonly SeqRange[], nowMs: number): Promise<number> {
    if (missing.length === 0) return 0;
    return this.db.transaction().execute(async (trx) => {
      await this.lockVillage(trx, gw);
      const open = await trx
        .selectFrom('seq_gaps')
        .selectAll()
        .where('gw', '=', gw)
        .where('state', '=', 'open')
        .execute();
      let seqs = 0;
      for (const g of open) {
        const { lost, kept } = split(g.lo, g.hi, missing);
        if (lost.length === 0) continue;
        for (const [lo, hi] of lost) seqs += hi - lo + 1;
        const [first, ...rest] = kept;
        if (first)
          await trx
            .updateTable('seq_gaps')
            .set({ lo: first[0], hi: first[1] })
            .where('id', '=', g.id)
            .execute();
        else await trx.deleteFrom('seq_gaps').where('id', '=', g.id).execute();
        const base = { gw, opened_ms: g.opened_ms, opened_day: g.opened_day, asks: g.asks };
        const rows = [
          ...rest.map(([lo, hi]) => ({
            ...base,
            lo,
            hi,
            state: 'open',
            closed_ms: null,
            next_ask_ms: g.next_ask_ms,
          })),
          ...lost.map(([lo, hi]) => ({
            ...base,
            lo,
            hi,
            state: 'unrepairable',
            closed_ms: nowMs,
            next_ask_ms: null,
          })),
        ];
        if (rows.length > 0) await trx.insertInto('seq_gaps').values(rows).execute();
      }
      return seqs;
    });
  }

  private async lockVillage(trx: Trx, gw: string): Promise<void> {
    await trx
      .selectFrom('villages')
      .select('gw')
      .where('gw', '=', gw)
      .$if(this.dialect === 'postgres', (q) => q.forUpdate())
      .execute();
  }
}

/** Splits lo..hi into the parts inside the missing ranges (lost) and outside them (kept). */
export function split(
  lo: number,
  hi: number,
  missing: readonly SeqRange[],
): { lost: SeqRange[]; kept: SeqRange[] } {
  const lost: SeqRange[] = [];
  for (const [a, b] of [...missing].sort((x, y) => x[0] - y[0])) {
    const from = Math.max(lo, a);
    const to = Math.min(hi, b);
    if (from > to) continue;
    const last = lost.at(-1);
    if (last && last[1] >= from - 1) last[1] = Math.max(last[1], to);
    else lost.push([from, to]);
  }
  const kept: SeqRange[] = [];
  let at = lo;
  for (const [a, b] of lost) {
    if (a > at) kept.push([at, a - 1]);
    at = b + 1;
  }
  if (at <= hi) kept.push([at, hi]);
  return { lost, kept };
}
