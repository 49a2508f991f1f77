import type { Transaction } from 'kysely';
import type { Gap } from '../seq-ledger.js';
import type { Dialect, RegencyTables } from './schema.js';

type Trx = Transaction<RegencyTables>;
export type VillageRow = RegencyTables['villages'];
export type Ranges = Array<{ lo: number; hi: number }>;

/** What a commit needs to know of the villages in its batch, read with a few statements. */
export interface Loaded {
  villages: Map<string, VillageRow>;
  gaps: Map<string, Gap[]>;
  boots: Map<string, Map<string, number>>;
  /** Seq ranges per village and boot, keyed by rangeKey(). */
  ranges: Map<string, Ranges>;
}

/** Rows per statement: far below SQLite's 32,766 and PostgreSQL's 65,535 bound parameters. */
export const CHUNK = 400;

export function chunks<T>(list: readonly T[], size = CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

/** The village code holds no NUL (MQTT forbids it in topic names), so the key is unambiguous. */
export function rangeKey(gw: string, boot: string): string {
  return `${gw}\u0000${boot}`;
}

/**
 * Creates the rows of villages heard for the first time, then reads (and on PostgreSQL locks,
 * in village order, so two collectors cannot deadlock) every village of the batch, with its
 * open gaps, its boots and the seq ranges of the boots the batch names.
 */
export async function loadBatch(
  trx: Trx,
  dialect: Dialect,
  gws: readonly string[],
  pairs: ReadonlyArray<readonly [string, string]>,
): Promise<Loaded> {
  const loaded: Loaded = { villages: new Map(), gaps: new Map(), boots: new Map(), ranges: new Map() };
  for (const part of chunks(gws)) {
    await trx
      .insertInto('villages')
      .values(part.map((gw) => ({ gw })))
      .onConflict((oc) => oc.column('gw').doNothing())
      .execute();
    const rows = await trx
      .selectFrom('villages')
      .selectAll()
      .where('gw', 'in', part)
      .orderBy('gw')
      .$if(dialect === 'postgres', (q) => q.forUpdate())
      .execute();
    for (const row of rows) loaded.villages.set(row.gw, row);
    const gapRows = await trx
      .selectFrom('seq_gaps')
      .select(['gw', 'id', 'lo', 'hi', 'opened_ms', 'opened_day'])
      .where('gw', 'in', part)
      .where('state', '=', 'open')
      .execute();
    for (const g of gapRows)
      push(loaded.gaps, g.gw, {
        id: g.id,
        lo: g.lo,
        hi: g.hi,
        openedMs: g.opened_ms,
        openedDay: g.opened_day,
      });
    const bootRows = await trx
      .selectFrom('village_boots')
      .select(['gw', 'boot', 'rank'])
      .where('gw', 'in', part)
      .execute();
    for (const b of bootRows) {
      let m = loaded.boots.get(b.gw);
      if (!m) {
        m = new Map();
        loaded.boots.set(b.gw, m);
      }
      m.set(b.boot, Number(b.rank));
    }
  }
  for (const part of chunks(pairs)) {
    for (const [gw, boot] of part) loaded.ranges.set(rangeKey(gw, boot), []);
    const rows = await trx
      .selectFrom('seq_ranges')
      .select(['gw', 'boot', 'lo', 'hi'])
      .where((eb) =>
        eb(
          eb.refTuple('gw', 'boot'),
          'in',
          part.map(([gw, boot]) => eb.tuple(gw, boot)),
        ),
      )
      .execute();
    for (const r of rows)
      loaded.ranges.get(rangeKey(r.gw, r.boot))?.push({ lo: Number(r.lo), hi: Number(r.hi) });
  }
  return loaded;
}

function push<T>(map: Map<string, T[]>, key: string, value: T): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
