import type { Kysely, Transaction } from 'kysely';
import { type Inbound, quarantineAfter } from '../classify.js';
import { readRevoked } from '../provision/credentials-repo.js';
import { addToRanges, SeqLedger } from '../seq-ledger.js';
import { chunks, type Loaded, loadBatch, rangeKey } from './ingest-load.js';
import { type DayCounts, dayCounts, dayOf, emptyVillage, foldedSeqs } from './ingest-rows.js';
import {
  bumpCounters,
  emptyWrites,
  insertMessages,
  type MessageRow,
  type VillageWrites,
  writeVillages,
} from './ingest-write.js';
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
 *
 * A batch costs a fixed number of statements, not a number per village: the villages of the
 * batch are read (and on PostgreSQL locked) together, folded in memory, and written back
 * with multi-row statements (ingest-load.ts, ingest-write.ts).
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
    const quarantined: Array<RegencyTables['quarantine'] extends infer Q ? Omit<Q, 'id'> : never> = [];
    for (const received of batch) {
      const rec = this.refuseRevoked(received, revoked);
      const it = rec.item;
      if (it.t === 'quarantine')
        quarantined.push({
          at_ms: rec.atMs,
          topic: it.topic,
          reason: it.reason,
          detail: it.detail,
          size: it.size,
          payload: it.payload,
        });
      else if (it.t !== 'ignore') {
        const list = byGw.get(it.gw);
        if (list) list.push(rec);
        else byGw.set(it.gw, [rec]);
      }
    }
    for (const part of chunks(quarantined)) await trx.insertInto('quarantine').values(part).execute();
    r.quarantined = quarantined.length;

    // Villages in a fixed order: two collectors locking the same villages cannot deadlock.
    const gws = [...byGw.keys()].sort();
    const pairs = new Map<string, readonly [string, string]>();
    const messages: MessageRow[] = [];
    const firstOf = new Set<string>();
    for (const gw of gws)
      for (const rec of byGw.get(gw) ?? []) {
        const it = rec.item;
        if (it.t !== 'envelope') continue;
        pairs.set(rangeKey(gw, it.env.boot), [gw, it.env.boot]);
        if (firstOf.has(it.env.id)) continue;
        firstOf.add(it.env.id);
        messages.push(messageRow(gw, it, rec.atMs));
      }
    const loaded = await loadBatch(trx, this.dialect, gws, [...pairs.values()]);
    const inserted = await insertMessages(trx, this.dialect, messages);
    const writes = emptyWrites();
    const nowMs = batch[batch.length - 1]?.atMs ?? 0;
    for (const gw of gws) this.foldVillage(gw, byGw.get(gw) ?? [], loaded, inserted, writes, r);
    await writeVillages(trx, writes, nowMs, this.repairAfterMs);
    await bumpCounters(
      trx,
      { messages: r.messages, duplicates: r.duplicates, reused: r.reused, quarantined: r.quarantined },
      r.lagMs,
    );
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

  /**
   * One village's messages, in the order received, folded into its ledger, day counts and
   * state in memory; what changed is added to the batch's writes. `inserted` holds the ids
   * that were new to the store: each is new once (a second copy in the batch is a duplicate).
   */
  private foldVillage(
    gw: string,
    recs: readonly Received[],
    loaded: Loaded,
    inserted: Set<string>,
    w: VillageWrites,
    r: CommitResult,
  ): void {
    // Only a row deleted between its insert and its read is missing: the write puts it back.
    const row = loaded.villages.get(gw) ?? emptyVillage(gw);
    const ledger = new SeqLedger(row.min_seq, row.max_seq, loaded.gaps.get(gw) ?? []);
    const days = new Map<string, DayCounts>();
    const dirty = new Set<string>();
    const state: VillageCols = {};
    const ranks = new BootRanks(loaded.boots.get(gw) ?? new Map());
    const order: Order = {
      ranks,
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
    const addRange = (boot: string, seq: number) => {
      const key = rangeKey(gw, boot);
      let list = loaded.ranges.get(key);
      if (!list) {
        list = [];
        loaded.ranges.set(key, list);
      }
      if (addToRanges(list, seq)) dirty.add(boot);
    };

    for (const rec of recs) {
      const it = rec.item;
      if (it.t === 'state') {
        if (!it.retained) seen(rec.atMs);
        applyState(it, rec.atMs, state, order, w.devices);
        continue;
      }
      if (it.t !== 'envelope') continue;
      const env = it.env;
      const day = dayOf(env, rec.atMs);
      const counts = dayCounts(days, day);
      if (!env.historical) seen(rec.atMs);
      if (!inserted.delete(env.id)) {
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
        w.reuse.push({ gw, seq: env.seq, boot: env.boot, msg_id: env.id, day, at_ms: rec.atMs });
      } else addRange(env.boot, env.seq);
      for (const folded of foldedSeqs(it)) {
        if (ledger.receive(folded, rec.atMs, day) === 'new') {
          counts.folded++;
          addRange(env.boot, folded);
        }
      }
      r.gapsOpened += Math.max(0, ledger.openGaps().length - before);
      if (!env.historical && env.clock_synced) {
        const lag = Math.max(0, rec.atMs - Date.parse(env.ts));
        if (Number.isFinite(lag)) r.lagMs = lag;
      }
      if (!env.historical) applyLive(it, rec.atMs, state, order);
    }

    const ch = ledger.changes();
    for (const gap of ch.inserted) w.gapsOpened.push({ gw, gap });
    w.gapsNarrowed.push(...ch.updated);
    w.gapsFilled.push(...ch.filled);
    for (const boot of dirty) w.ranges.push({ gw, boot, list: loaded.ranges.get(rangeKey(gw, boot)) ?? [] });
    for (const [day, c] of days) w.days.push({ gw, day, c });
    for (const b of ranks.added) w.boots.push({ gw, boot: b.boot, rank: b.rank, first_ms: b.firstMs });
    w.villages.push({
      ...row,
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
    });
  }
}

function messageRow(gw: string, it: Extract<Inbound, { t: 'envelope' }>, atMs: number): MessageRow {
  const env = it.env;
  return {
    id: env.id,
    gw,
    kind: it.kind,
    boot: env.boot,
    seq: env.seq,
    ts: env.ts,
    clock_synced: env.clock_synced ? 1 : 0,
    historical: env.historical ? 1 : 0,
    day: dayOf(env, atMs),
    received_ms: atMs,
    data: it.data,
  };
}
