import { type Kysely, sql } from 'kysely';
import { wibDay } from '../../core/wib.js';
import type { SeqGapRow, VerdictSample } from '../incidents/derive.js';
import type { LedgerOutage } from '../incidents/group.js';
import type { Dialect, RegencyTables } from './schema.js';

/** The verdict history of one village and its seq gaps (read-only, both dialects). */
export class IncidentRepo {
  private readonly db: Kysely<RegencyTables>;
  private readonly dialect: Dialect;

  constructor(deps: { db: Kysely<RegencyTables>; dialect: Dialect }) {
    this.db = deps.db;
    this.dialect = deps.dialect;
  }

  /** Villages with any health message on the WIB days of [fromMs, toMs]. */
  async villagesWithHealth(fromMs: number, toMs: number): Promise<string[]> {
    const rows = await this.db
      .selectFrom('ledger_days')
      .select('gw')
      .distinct()
      .where('day', '>=', wibDay(fromMs))
      .where('day', '<=', wibDay(toMs))
      .orderBy('gw')
      .execute();
    return rows.map((r) => r.gw);
  }

  /**
   * Health samples of one village stored on the WIB days of [fromMs, toMs] (the (gw, day)
   * index), timed by the box's `ts` when its clock was synced, else by receipt.
   */
  async samples(gw: string, fromMs: number, toMs: number): Promise<VerdictSample[]> {
    // Only the few fields needed, extracted by the store: a day of a fleet is ~300k samples.
    const f = (path: string[]) =>
      this.dialect === 'postgres'
        ? sql<string | null>`(data::jsonb #>> ${`{${path.join(',')}}`})`
        : sql<string | null>`json_extract(data, ${`$.${path.join('.')}`})`;
    const rows = await this.db
      .selectFrom('messages')
      .select([
        'boot',
        'seq',
        'ts',
        'clock_synced',
        'received_ms',
        f(['link', 'verdict']).as('verdict'),
        f(['link', 'fault_layer']).as('layer'),
        f(['summary', 'from']).as('s_from'),
        f(['summary', 'to']).as('s_to'),
        f(['summary', 'link_verdicts', 'down']).as('s_down'),
      ])
      .where('gw', '=', gw)
      .where('kind', '=', 'health')
      .where('day', '>=', wibDay(fromMs))
      .where('day', '<=', wibDay(toMs))
      .execute();
    return rows.map((r) => {
      const synced = r.clock_synced === 1;
      const ts = Date.parse(r.ts);
      const at = synced && Number.isFinite(ts) ? ts : Number(r.received_ms);
      const verdict = typeof r.verdict === 'string' ? r.verdict : 'unknown';
      const from = synced && typeof r.s_from === 'string' ? Date.parse(r.s_from) : Number.NaN;
      const to = synced && typeof r.s_to === 'string' ? Date.parse(r.s_to) : Number.NaN;
      const downN = Number(r.s_down ?? Number.NaN);
      return {
        boot: r.boot,
        seq: Number(r.seq),
        fromMs: Number.isFinite(from) ? Math.min(from, at) : at,
        toMs: Number.isFinite(to) ? Math.max(to, at) : at,
        verdict,
        layer: typeof r.layer === 'string' ? r.layer : null,
        downProbes: verdict === 'down' ? (Number.isFinite(downN) && downN > 0 ? downN : 1) : 0,
        unsynced: !synced,
      };
    });
  }

  /**
   * Whether a village's history in [fromMs, toMs] can hold an incident at all: a down verdict,
   * or more than one boot (a power incident). Counted in the store (the (gw, day) index and a
   * text match on the stored JSON, written compact by the collector), so a fleet-wide query
   * parses only the histories that matter.
   */
  async mayHaveIncidents(gw: string, fromMs: number, toMs: number): Promise<boolean> {
    const r = await this.db
      .selectFrom('messages')
      .select((eb) => [
        eb.fn.count<number>('boot').distinct().as('boots'),
        eb.fn
          .sum<number>(eb.case().when('data', 'like', '%"verdict":"down"%').then(1).else(0).end())
          .as('downs'),
      ])
      .where('gw', '=', gw)
      .where('kind', '=', 'health')
      .where('day', '>=', wibDay(fromMs))
      .where('day', '<=', wibDay(toMs))
      .executeTakeFirst();
    return Number(r?.boots ?? 0) > 1 || Number(r?.downs ?? 0) > 0;
  }

  seqGaps(gw: string): Promise<SeqGapRow[]> {
    return this.db.selectFrom('seq_gaps').select(['lo', 'hi', 'state']).where('gw', '=', gw).execute();
  }

  /**
   * The outages one village's gateway measured and reported (`outage` messages: start, end,
   * fault layer by its own probes) stored on the WIB days of [fromMs, toMs].
   */
  async outages(gw: string, fromMs: number, toMs: number): Promise<LedgerOutage[]> {
    const rows = await this.db
      .selectFrom('messages')
      .select(['data'])
      .where('gw', '=', gw)
      .where('kind', '=', 'outage')
      .where('day', '>=', wibDay(fromMs))
      .where('day', '<=', wibDay(toMs))
      .execute();
    const out: LedgerOutage[] = [];
    for (const r of rows) {
      const d = JSON.parse(r.data) as { start?: unknown; end?: unknown; fault_layer?: unknown };
      const startMs = typeof d.start === 'string' ? Date.parse(d.start) : Number.NaN;
      const endMs = typeof d.end === 'string' ? Date.parse(d.end) : Number.NaN;
      if (!Number.isFinite(startMs) || !Number.isFinite(endMs)) continue;
      out.push({ startMs, endMs, layer: typeof d.fault_layer === 'string' ? d.fault_layer : 'unknown' });
    }
    return out;
  }
}
