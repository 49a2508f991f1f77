import { type Inbound, quarantineAfter } from '../classify.js';
import { addToRanges, SeqLedger } from '../seq-ledger.js';
import { type Loaded, rangeKey } from './ingest-load.js';
import { type DayCounts, dayCounts, dayOf, emptyVillage, foldedSeqs } from './ingest-rows.js';
import { emptyWrites, type MessageRow, type VillageWrites } from './ingest-write.js';
import type { RegencyTables } from './schema.js';
import { applyLive, applyState, type Order, type VillageCols } from './state-apply.js';
import { BootRanks, position } from './state-order.js';

/**
 * The part of a commit that touches no store: which rows a batch of received messages
 * becomes (plan), and how each village's messages fold into its ledger, day counts and
 * state once the village is loaded (fold). Both stores' writers run the same two steps.
 */

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

export type QuarantineRow = Omit<RegencyTables['quarantine'], 'id'>;

/** A batch sorted out: quarantined rows, each village's messages, the envelopes to insert. */
export interface Plan {
  quarantined: QuarantineRow[];
  byGw: Map<string, Received[]>;
  /** Villages in a fixed order: two collectors locking the same villages cannot deadlock. */
  gws: string[];
  /** The (village, boot) pairs the batch names, for their seq ranges. */
  pairs: Array<readonly [string, string]>;
  /** One row per distinct envelope id of the batch. */
  messages: MessageRow[];
  /** The WIB day of each envelope received (dayOf), worked out once. */
  days: Map<Received, string>;
  /** Wall time of the batch's newest receipt: gaps filled are judged against it. */
  nowMs: number;
  result: CommitResult;
}

/** Sorts a batch out; a message of a revoked village is quarantined here. */
export function planBatch(batch: readonly Received[], revoked: ReadonlyMap<string, number>): Plan {
  const quarantined: QuarantineRow[] = [];
  const byGw = new Map<string, Received[]>();
  for (const received of batch) {
    const rec = refuseRevoked(received, revoked);
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
  const gws = [...byGw.keys()].sort();
  const pairs = new Map<string, readonly [string, string]>();
  const messages: MessageRow[] = [];
  const days = new Map<Received, string>();
  const firstOf = new Set<string>();
  for (const gw of gws)
    for (const rec of byGw.get(gw) ?? []) {
      const it = rec.item;
      if (it.t !== 'envelope') continue;
      const day = dayOf(it.env, rec.atMs);
      days.set(rec, day);
      pairs.set(rangeKey(gw, it.env.boot), [gw, it.env.boot]);
      if (firstOf.has(it.env.id)) continue;
      firstOf.add(it.env.id);
      messages.push(messageRow(gw, it, rec.atMs, day));
    }
  return {
    quarantined,
    byGw,
    gws,
    pairs: [...pairs.values()],
    messages,
    days,
    nowMs: batch[batch.length - 1]?.atMs ?? 0,
    result: {
      messages: 0,
      duplicates: 0,
      reused: 0,
      quarantined: quarantined.length,
      gapsOpened: 0,
      lagMs: null,
      revoked: new Set(revoked.keys()),
    },
  };
}

/**
 * Folds every village of the plan, once loaded; `inserted` holds the ids that were new to
 * the store (each is new once: a second copy in the batch is a duplicate). Fills the plan's
 * result and returns what to write back.
 */
export function foldBatch(plan: Plan, loaded: Loaded, inserted: Set<string>): VillageWrites {
  const writes = emptyWrites();
  for (const gw of plan.gws)
    foldVillage(gw, plan.byGw.get(gw) ?? [], plan.days, loaded, inserted, writes, plan.result);
  return writes;
}

function refuseRevoked(rec: Received, revoked: ReadonlyMap<string, number>): Received {
  const it = rec.item;
  if (it.t === 'quarantine' || it.t === 'ignore') return rec;
  const at = revoked.get(it.gw);
  if (at === undefined) return rec;
  const detail = `village ${it.gw} revoked at ${new Date(at).toISOString()}`;
  return { item: quarantineAfter(it, 'revoked', detail), atMs: rec.atMs };
}

/**
 * One village's messages, in the order received, folded into its ledger, day counts and
 * state in memory; what changed is added to the batch's writes.
 */
function foldVillage(
  gw: string,
  recs: readonly Received[],
  days: ReadonlyMap<Received, string>,
  loaded: Loaded,
  inserted: Set<string>,
  w: VillageWrites,
  r: CommitResult,
): void {
  // Only a row deleted between its insert and its read is missing: the write puts it back.
  const row = loaded.villages.get(gw) ?? emptyVillage(gw);
  const ledger = new SeqLedger(row.min_seq, row.max_seq, loaded.gaps.get(gw) ?? []);
  const perDay = new Map<string, DayCounts>();
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
    const day = days.get(rec) ?? dayOf(env, rec.atMs);
    const counts = dayCounts(perDay, day);
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
    const before = ledger.gapCount;
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
    r.gapsOpened += Math.max(0, ledger.gapCount - before);
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
  for (const [day, c] of perDay) w.days.push({ gw, day, c });
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

function messageRow(
  gw: string,
  it: Extract<Inbound, { t: 'envelope' }>,
  atMs: number,
  day: string,
): MessageRow {
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
    day,
    received_ms: atMs,
    data: it.data,
  };
}
