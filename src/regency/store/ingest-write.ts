import { sql, type Transaction } from 'kysely';
import type { Gap } from '../seq-ledger.js';
import { CHUNK, chunks, type Ranges, type VillageRow } from './ingest-load.js';
import type { DayCounts } from './ingest-rows.js';
import type { Dialect, RegencyTables } from './schema.js';
import type { DeviceOps } from './state-apply.js';

type Trx = Transaction<RegencyTables>;

/**
 * The writes of one commit, each a few multi-row statements whatever the number of villages
 * in the batch (the bare cost of a commit is a statement per table, not per village).
 */

export type MessageRow = RegencyTables['messages'];

/**
 * Inserts the batch's envelopes; returns the ids that were new (a redelivery is not).
 *
 * On PostgreSQL `messages` is partitioned (migration-012.ts) and its key is (id, kind, day):
 * a redelivery whose day differs (an unsynced clock: the day of receipt, across a WIB
 * midnight) would not conflict. So the ids already stored are looked up first and left out.
 * That look-up cannot race another collector: an id belongs to one village, and the batch's
 * villages are locked (FOR UPDATE, loadBatch) before this runs, so a commit of the same
 * village elsewhere has either committed (its rows are seen: read committed) or waits.
 * ON CONFLICT stays as a second guard.
 */
export async function insertMessages(
  trx: Trx,
  dialect: Dialect,
  rows: readonly MessageRow[],
): Promise<Set<string>> {
  const inserted = new Set<string>();
  let fresh = rows;
  if (dialect === 'postgres' && rows.length > 0) {
    const ids = rows.map((r) => r.id);
    const known = await trx
      .selectFrom('messages')
      .select('id')
      .where(sql<boolean>`id = ANY(${ids}::text[])`)
      .execute();
    const stored = new Set(known.map((r) => r.id));
    if (stored.size > 0) fresh = rows.filter((r) => !stored.has(r.id));
  }
  // Sorted by id: two collectors inserting the same redelivered ids take their locks in one order.
  const sorted = [...fresh].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  for (const part of chunks(sorted)) {
    const back = await trx
      .insertInto('messages')
      .values(part)
      .onConflict((oc) =>
        (dialect === 'postgres' ? oc.columns(['id', 'kind', 'day']) : oc.column('id')).doNothing(),
      )
      .returning('id')
      .execute();
    for (const r of back) inserted.add(r.id);
  }
  return inserted;
}

export interface VillageWrites {
  villages: VillageRow[];
  boots: Array<{ gw: string; boot: string; rank: number; first_ms: number }>;
  reuse: Array<RegencyTables['seq_reuse'] extends infer R ? Omit<R, 'id'> : never>;
  /** Seq ranges of (village, boot) pairs that changed: replaced whole. */
  ranges: Array<{ gw: string; boot: string; list: Ranges }>;
  gapsOpened: Array<{ gw: string; gap: Gap }>;
  gapsNarrowed: Gap[];
  gapsFilled: Gap[];
  days: Array<{ gw: string; day: string; c: DayCounts }>;
  devices: DeviceOps;
}

export function emptyWrites(): VillageWrites {
  return {
    villages: [],
    boots: [],
    reuse: [],
    ranges: [],
    gapsOpened: [],
    gapsNarrowed: [],
    gapsFilled: [],
    days: [],
    devices: new Map(),
  };
}

export async function writeVillages(trx: Trx, w: VillageWrites, nowMs: number, repairAfterMs: number) {
  for (const part of chunks(w.boots)) await trx.insertInto('village_boots').values(part).execute();
  for (const part of chunks(w.reuse)) await trx.insertInto('seq_reuse').values(part).execute();
  await writeRanges(trx, w.ranges);
  await writeGaps(trx, w, nowMs, repairAfterMs);
  await writeDays(trx, w.days);
  await writeDevices(trx, w.devices);
  await writeVillageRows(trx, w.villages);
}

async function writeRanges(trx: Trx, ranges: VillageWrites['ranges']): Promise<void> {
  for (const part of chunks(ranges)) {
    await trx
      .deleteFrom('seq_ranges')
      .where((eb) =>
        eb(
          eb.refTuple('gw', 'boot'),
          'in',
          part.map((r) => eb.tuple(r.gw, r.boot)),
        ),
      )
      .execute();
    const rows = part.flatMap((r) => r.list.map((x) => ({ gw: r.gw, boot: r.boot, lo: x.lo, hi: x.hi })));
    for (const rowPart of chunks(rows)) await trx.insertInto('seq_ranges').values(rowPart).execute();
  }
}

/**
 * A gap filled soon after it opened was only reordering (live first, backlog after an
 * outage): it leaves no trace. One filled after repair_after_s stays listed as repaired.
 */
async function writeGaps(trx: Trx, w: VillageWrites, nowMs: number, repairAfterMs: number): Promise<void> {
  for (const part of chunks(w.gapsOpened))
    await trx
      .insertInto('seq_gaps')
      .values(
        part.map(({ gw, gap }) => ({
          gw,
          lo: gap.lo,
          hi: gap.hi,
          state: 'open',
          opened_ms: gap.openedMs,
          opened_day: gap.openedDay,
          closed_ms: null,
        })),
      )
      .execute();
  for (const part of chunks(w.gapsNarrowed)) {
    const when = (pick: (g: Gap) => number) =>
      sql<number>`CASE id ${sql.join(
        part.map((g) => sql`WHEN ${g.id} THEN CAST(${pick(g)} AS BIGINT)`),
        sql` `,
      )} END`;
    await trx
      .updateTable('seq_gaps')
      .set({ lo: when((g) => g.lo), hi: when((g) => g.hi) })
      .where(
        'id',
        'in',
        part.map((g) => g.id as number),
      )
      .execute();
  }
  const repaired = w.gapsFilled.filter((g) => nowMs - g.openedMs >= repairAfterMs).map((g) => g.id as number);
  const reordered = w.gapsFilled.filter((g) => nowMs - g.openedMs < repairAfterMs).map((g) => g.id as number);
  for (const part of chunks(repaired))
    await trx
      .updateTable('seq_gaps')
      .set({ state: 'repaired', closed_ms: nowMs })
      .where('id', 'in', part)
      .execute();
  for (const part of chunks(reordered)) await trx.deleteFrom('seq_gaps').where('id', 'in', part).execute();
}

async function writeDays(trx: Trx, days: VillageWrites['days']): Promise<void> {
  for (const part of chunks(days))
    await trx
      .insertInto('ledger_days')
      .values(
        part.map(({ gw, day, c }) => ({
          gw,
          day,
          messages: c.messages,
          duplicates: c.duplicates,
          reused: c.reused,
          folded: c.folded,
          min_seq: c.min,
          max_seq: c.max,
        })),
      )
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

async function writeDevices(trx: Trx, devices: DeviceOps): Promise<void> {
  const ops = [...devices.values()];
  const gone = ops.filter((o) => o.row === null);
  const set = ops.flatMap((o) => (o.row === null ? [] : [{ gw: o.gw, device_id: o.deviceId, ...o.row }]));
  for (const part of chunks(gone))
    await trx
      .deleteFrom('village_devices')
      .where((eb) =>
        eb(
          eb.refTuple('gw', 'device_id'),
          'in',
          part.map((o) => eb.tuple(o.gw, o.deviceId)),
        ),
      )
      .execute();
  for (const part of chunks(set))
    await trx
      .insertInto('village_devices')
      .values(part)
      .onConflict((oc) =>
        oc.columns(['gw', 'device_id']).doUpdateSet((eb) => ({
          state: eb.ref('excluded.state'),
          data: eb.ref('excluded.data'),
          at_ms: eb.ref('excluded.at_ms'),
        })),
      )
      .execute();
}

export const VILLAGE_COLS = [
  'online',
  'status',
  'verdict',
  'fault_layer',
  'since',
  'link',
  'health',
  'version',
  'boot',
  'clock_synced',
  'outbox_depth',
  'last_seen_ms',
  'state_ms',
  'min_seq',
  'max_seq',
  'health_interval_s',
  'health_rank',
  'health_seq',
  'top_rank',
  'top_seq',
  'link_rank',
  'link_seq',
  'boot_rank',
] as const satisfies ReadonlyArray<Exclude<keyof VillageRow, 'gw'>>;

/**
 * The villages' rows, locked and read at the start of the commit, written back whole: an
 * upsert of existing rows, which is an update of many rows in one statement on both stores.
 */
async function writeVillageRows(trx: Trx, rows: readonly VillageRow[]): Promise<void> {
  // 24 columns a row: a smaller chunk keeps the statement under the parameter bounds.
  for (const part of chunks(rows, Math.floor(CHUNK / 2)))
    await trx
      .insertInto('villages')
      .values(part.map((r) => pickVillage(r)))
      .onConflict((oc) =>
        oc.column('gw').doUpdateSet((eb) => {
          const set: Record<string, unknown> = {};
          for (const c of VILLAGE_COLS) set[c] = eb.ref(`excluded.${c}`);
          return set as never;
        }),
      )
      .execute();
}

/** Only the table's own columns: a row read with selectAll carries nothing else, but be exact. */
function pickVillage(r: VillageRow): VillageRow {
  const out = { gw: r.gw } as Record<string, unknown>;
  for (const c of VILLAGE_COLS) out[c] = r[c] ?? null;
  return out as unknown as VillageRow;
}

/** Adds the batch's totals to the running counters, and records the newest lag. */
export async function bumpCounters(
  trx: Trx,
  deltas: Record<string, number>,
  lagMs: number | null,
): Promise<void> {
  const rows = Object.entries(deltas)
    .filter(([, value]) => value !== 0)
    .map(([name, value]) => ({ name, value }));
  if (rows.length > 0)
    await trx
      .insertInto('counters')
      .values(rows)
      .onConflict((oc) => oc.column('name').doUpdateSet({ value: sql`counters.value + excluded.value` }))
      .execute();
  if (lagMs !== null)
    await trx
      .insertInto('counters')
      .values({ name: 'last_lag_ms', value: lagMs })
      .onConflict((oc) => oc.column('name').doUpdateSet({ value: lagMs }))
      .execute();
}
