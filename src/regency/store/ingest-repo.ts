import { type Kysely, sql, type Transaction } from 'kysely';
import { type Inbound, quarantineAfter } from '../classify.js';
import { readRevoked } from '../provision/credentials-repo.js';
import { addToRanges, type Gap, SeqLedger } from '../seq-ledger.js';
import { type DayCounts, dayCounts, dayOf, emptyVillage, foldedSeqs } from './ingest-rows.js';
import type { Dialect, RegencyTables } from './schema.js';
import { applyLive, applyState, type Order, type VillageCols } from './state-apply.js';
import { BootRanks, position } from './state-order.js';

export interface Received {
  item: Inbound;
  /** Wall time of receipt (ms). */
  atMs: number;
}

/** What one commit changed, for metrics and logs. */
export interface CommitResult {
  messages: number;
  duplicates: number;
  reused: number;
  quarantined: number;
  gapsOpened: number;
  /** Publish-to-commit delay of the newest live message with a synced clock, if any. */
  lagMs: number | null;
  /** Every revoked village as this commit saw it (the collector stops counting them as heard). */
  revoked: ReadonlySet<string>;
}

type Trx = Transaction<RegencyTables>;

/**
 * Writes one batch of received messages in one transaction: envelopes keyed on their id
 * (a redelivery is a no-op, counted as a duplicate), the seq ledger of each village, the
 * per-day completeness counts, the latest village state and the quarantine. The caller
 * acknowledges the batch to the broker only after this resolves.
 */
export class IngestRepo {
  private readonly db: Kysely<RegencyTables>;
  private readonly dialect: Dialect;
  private readonly repairAfterMs: number;

  constructor(deps: { db: Kysely<RegencyTables>; dialect: Dialect; repairAfterMs: number }) {
    this.db = deps.db;
    this.dialect = deps.dialect;
    this.repairAfterMs = deps.repairAfterMs;
  }

  commit(batch: readonly Received[]): Promise<CommitResult> {
    return this.db.transaction().execute((trx) => this.apply(trx, batch));
  }

  private async apply(trx: Trx, batch: readonly Received[]): Promise<CommitResult> {
    // Read in the same transaction: whatever commits after `regency revoke` committed is refused.
    const revoked = await this.revoked(trx);
    const r: CommitResult = {
      messages: 0,
      duplicates: 0,
      reused: 0,
      quarantined: 0,
      gapsOpened: 0,
      lagMs: null,
      revoked: new Set(revoked.keys()),
    };
    const byGw = new Map<string, Received[]>();
    for (const received of batch) {
      const rec = this.refuseRevoked(received, revoked);
      const it = rec.item;
      if (it.t === 'quarantine') {
        await trx
          .insertInto('quarantine')
          .values({
            at_ms: rec.atMs,
            topic: it.topic,
            reason: it.reason,
            detail: it.detail,
            size: it.size,
            payload: it.payload,
          })
          .execute();
        r.quarantined++;
      } else if (it.t !== 'ignore') {
        const list = byGw.get(it.gw);
        if (list) list.push(rec);
        else byGw.set(it.gw, [rec]);
      }
    }
    // Villages in a fixed order: two collectors locking the same villages cannot deadlock.
    for (const gw of [...byGw.keys()].sort()) await this.applyVillage(trx, gw, byGw.get(gw) ?? [], r);
    await this.bump(trx, {
      messages: r.messages,
      duplicates: r.duplicates,
      reused: r.reused,
      quarantined: r.quarantined,
    });
    if (r.lagMs !== null)
      await trx
        .insertInto('counters')
        .values({ name: 'last_lag_ms', value: r.lagMs })
        .onConflict((oc) => oc.column('name').doUpdateSet({ value: r.lagMs as number }))
        .execute();
    return r;
  }

  /** Revoked villages and when: their messages are quarantined, whatever the broker let through. */
  private async revoked(trx: Trx): Promise<Map<string, number>> {
    return readRevoked(trx);
  }

  private refuseRevoked(rec: Received, revoked: ReadonlyMap<string, number>): Received {
    const it = rec.item;
    if (it.t === 'quarantine' || it.t === 'ignore') return rec;
    const at = revoked.get(it.gw);
    if (at === undefined) return rec;
    const detail = `village ${it.gw} revoked at ${new Date(at).toISOString()}`;
    return { item: quarantineAfter(it, 'revoked', detail), atMs: rec.atMs };
  }

  private async applyVillage(trx: Trx, gw: string, recs: Received[], r: CommitResult): Promise<void> {
    await trx
      .insertInto('villages')
      .values(emptyVillage(gw))
      .onConflict((oc) => oc.column('gw').doNothing())
      .execute();
    const row = await trx
      .selectFrom('villages')
      .select([
        'min_seq',
        'max_seq',
        'health_rank',
        'health_seq',
        'top_rank',
        'top_seq',
        'link_rank',
        'link_seq',
        'boot_rank',
        'last_seen_ms',
      ])
      .where('gw', '=', gw)
      .$if(this.dialect === 'postgres', (q) => q.forUpdate())
      .executeTakeFirstOrThrow();
    const gapRows = await trx
      .selectFrom('seq_gaps')
      .select(['id', 'lo', 'hi', 'opened_ms', 'opened_day'])
      .where('gw', '=', gw)
      .where('state', '=', 'open')
      .execute();
    const ledger = new SeqLedger(
      row.min_seq,
      row.max_seq,
      gapRows.map((g) => ({ id: g.id, lo: g.lo, hi: g.hi, openedMs: g.opened_ms, openedDay: g.opened_day })),
    );
    const days = new Map<string, DayCounts>();
    const ranges = new Map<string, Array<{ lo: number; hi: number }>>();
    const state: VillageCols = {};
    const order: Order = {
      ranks: new BootRanks(trx, gw),
      health: position(row.health_rank, row.health_seq),
      top: position(row.top_rank, row.top_seq),
      link: position(row.link_rank, row.link_seq),
      bootRank: row.boot_rank === null ? null : Number(row.boot_rank),
      lastSeen: row.last_seen_ms === null ? null : Number(row.last_seen_ms),
    };
    const seen = (atMs: number) => {
      // Several collectors commit one village's messages: the newest receipt wins, not the last commit.
      if (order.lastSeen === null || atMs > order.lastSeen) state.last_seen_ms = order.lastSeen = atMs;
    };

    for (const rec of recs) {
      const it = rec.item;
      if (it.t === 'state') {
        if (!it.retained) seen(rec.atMs);
        await applyState(trx, it, rec.atMs, state, order);
        continue;
      }
      if (it.t !== 'envelope') continue;
      const env = it.env;
      const day = dayOf(env, rec.atMs);
      const counts = dayCounts(days, day);
      if (!env.historical) seen(rec.atMs);
      const inserted = await trx
        .insertInto('messages')
        .values({
          id: env.id,
          gw,
          kind: it.kind,
          boot: env.boot,
          seq: env.seq,
          ts: env.ts,
          clock_synced: env.clock_synced ? 1 : 0,
          historical: env.historical ? 1 : 0,
          day,
          received_ms: rec.atMs,
          data: it.data,
        })
        .onConflict((oc) => oc.column('id').doNothing())
        .executeTakeFirst();
      if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) === 0) {
        counts.duplicates++;
        r.duplicates++;
        continue;
      }
      r.messages++;
      counts.messages++;
      counts.min = counts.min === null ? env.seq : Math.min(counts.min, env.seq);
      counts.max = counts.max === null ? env.seq : Math.max(counts.max, env.seq);
      const before = ledger.openGaps().length;
      if (ledger.receive(env.seq, rec.atMs, day) === 'covered') {
        counts.reused++;
        r.reused++;
        await trx
          .insertInto('seq_reuse')
          .values({ gw, seq: env.seq, boot: env.boot, msg_id: env.id, day, at_ms: rec.atMs })
          .execute();
      } else {
        await this.addRange(trx, ranges, gw, env.boot, env.seq);
      }
      for (const folded of foldedSeqs(it)) {
        if (ledger.receive(folded, rec.atMs, day) === 'new') {
          counts.folded++;
          await this.addRange(trx, ranges, gw, env.boot, folded);
        }
      }
      r.gapsOpened += Math.max(0, ledger.openGaps().length - before);
      if (!env.historical && env.clock_synced) {
        const lag = Math.max(0, rec.atMs - Date.parse(env.ts));
        if (Number.isFinite(lag)) r.lagMs = lag;
      }
      if (!env.historical) await applyLive(it, rec.atMs, state, order);
    }

    await this.writeGaps(trx, gw, ledger, recs[recs.length - 1]?.atMs ?? 0);
    await this.writeRanges(trx, gw, ranges);
    for (const [day, c] of days) await this.addDay(trx, gw, day, c);
    await trx
      .updateTable('villages')
      .set({
        ...state,
        min_seq: ledger.min,
        max_seq: ledger.max,
        health_rank: order.health?.rank ?? null,
        health_seq: order.health?.seq ?? null,
        top_rank: order.top?.rank ?? null,
        top_seq: order.top?.seq ?? null,
        link_rank: order.link?.rank ?? null,
        link_seq: order.link?.seq ?? null,
        boot_rank: order.bootRank,
      })
      .where('gw', '=', gw)
      .execute();
  }

  private async addRange(
    trx: Trx,
    ranges: Map<string, Array<{ lo: number; hi: number }>>,
    gw: string,
    boot: string,
    seq: number,
  ): Promise<void> {
    let list = ranges.get(boot);
    if (!list) {
      list = await trx
        .selectFrom('seq_ranges')
        .select(['lo', 'hi'])
        .where('gw', '=', gw)
        .where('boot', '=', boot)
        .execute();
      ranges.set(boot, list);
    }
    addToRanges(list, seq);
  }

  private async writeRanges(trx: Trx, gw: string, ranges: Map<string, Array<{ lo: number; hi: number }>>) {
    for (const [boot, list] of ranges) {
      await trx.deleteFrom('seq_ranges').where('gw', '=', gw).where('boot', '=', boot).execute();
      if (list.length > 0)
        await trx
          .insertInto('seq_ranges')
          .values(list.map((x) => ({ gw, boot, lo: x.lo, hi: x.hi })))
          .execute();
    }
  }

  private async writeGaps(trx: Trx, gw: string, ledger: SeqLedger, nowMs: number): Promise<void> {
    const ch = ledger.changes();
    for (const g of ch.inserted)
      await trx
        .insertInto('seq_gaps')
        .values({
          gw,
          lo: g.lo,
          hi: g.hi,
          state: 'open',
          opened_ms: g.openedMs,
          opened_day: g.openedDay,
          closed_ms: null,
        })
        .execute();
    for (const g of ch.updated)
      await trx
        .updateTable('seq_gaps')
        .set({ lo: g.lo, hi: g.hi })
        .where('id', '=', g.id as number)
        .execute();
    for (const g of ch.filled) await this.closeGap(trx, g, nowMs);
  }

  /**
   * A gap filled soon after it opened was only reordering (live first, backlog after an
   * outage): it leaves no trace. One filled after repair_after_s stays listed as repaired.
   */
  private async closeGap(trx: Trx, g: Gap, nowMs: number): Promise<void> {
    const row = await trx
      .selectFrom('seq_gaps')
      .select(['opened_ms'])
      .where('id', '=', g.id as number)
      .executeTakeFirst();
    if (row && nowMs - row.opened_ms >= this.repairAfterMs)
      await trx
        .updateTable('seq_gaps')
        .set({ state: 'repaired', closed_ms: nowMs })
        .where('id', '=', g.id as number)
        .execute();
    else
      await trx
        .deleteFrom('seq_gaps')
        .where('id', '=', g.id as number)
        .execute();
  }

  private async addDay(trx: Trx, gw: string, day: string, c: DayCounts): Promise<void> {
    await trx
      .insertInto('ledger_days')
      .values({
        gw,
        day,
        messages: c.messages,
        duplicates: c.duplicates,
        reused: c.reused,
        folded: c.folded,
        min_seq: c.min,
        max_seq: c.max,
      })
      .onConflict((oc) =>
        oc.columns(['gw', 'day']).doUpdateSet({
          messages: sql`ledger_days.messages + excluded.messages`,
          duplicates: sql`ledger_days.duplicates + excluded.duplicates`,
          reused: sql`ledger_days.reused + excluded.reused`,
          folded: sql`ledger_days.folded + excluded.folded`,
          min_seq: sql`CASE WHEN ledger_days.min_seq IS NULL OR excluded.min_seq < ledger_days.min_seq
                        THEN excluded.min_seq ELSE ledger_days.min_seq END`,
          max_seq: sql`CASE WHEN ledger_days.max_seq IS NULL OR excluded.max_seq > ledger_days.max_seq
                        THEN excluded.max_seq ELSE ledger_days.max_seq END`,
        }),
      )
      .execute();
  }

  private async bump(trx: Trx, deltas: Record<string, number>): Promise<void> {
    for (const [name, value] of Object.entries(deltas)) {
      if (value === 0) continue;
      await trx
        .insertInto('counters')
        .values({ name, value })
        .onConflict((oc) => oc.column('name').doUpdateSet({ value: sql`counters.value + excluded.value` }))
        .execute();
    }
  }
}
