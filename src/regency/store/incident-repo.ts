import type { Kysely } from 'kysely';
import { wibDay } from '../../core/wib.js';
import type { SeqGapRow, VerdictSample } from '../incidents/derive.js';
import type { RegencyTables } from './schema.js';

interface HealthData {
  link?: { verdict?: unknown; fault_layer?: unknown };
  summary?: { from?: unknown; to?: unknown; link_verdicts?: Record<string, unknown> };
}

/** The verdict history of one village and its seq gaps (read-only, both dialects). */
export class IncidentRepo {
  private readonly db: Kysely<RegencyTables>;

  constructor(deps: { db: Kysely<RegencyTables> }) {
    this.db = deps.db;
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
    const rows = await this.db
      .selectFrom('messages')
      .select(['boot', 'seq', 'ts', 'clock_synced', 'received_ms', 'data'])
      .where('gw', '=', gw)
      .where('kind', '=', 'health')
      .where('day', '>=', wibDay(fromMs))
      .where('day', '<=', wibDay(toMs))
      .execute();
    const out: VerdictSample[] = [];
    for (const r of rows) {
      let d: HealthData;
      try {
        d = JSON.parse(r.data) as HealthData;
      } catch {
        continue;
      }
      const synced = r.clock_synced === 1;
      const ts = Date.parse(r.ts);
      const at = synced && Number.isFinite(ts) ? ts : Number(r.received_ms);
      const verdict = typeof d.link?.verdict === 'string' ? d.link.verdict : 'unknown';
      const layer = typeof d.link?.fault_layer === 'string' ? d.link.fault_layer : null;
      const s = d.summary;
      const from = synced && typeof s?.from === 'string' ? Date.parse(s.from) : Number.NaN;
      const to = synced && typeof s?.to === 'string' ? Date.parse(s.to) : Number.NaN;
      const downN = Number(s?.link_verdicts?.down ?? Number.NaN);
      out.push({
        boot: r.boot,
        seq: Number(r.seq),
        fromMs: Number.isFinite(from) ? Math.min(from, at) : at,
        toMs: Number.isFinite(to) ? Math.max(to, at) : at,
        verdict,
        layer,
        downProbes: verdict === 'down' ? (Number.isFinite(downN) && downN > 0 ? downN : 1) : 0,
        unsynced: !synced,
      });
    }
    return out;
  }

  seqGaps(gw: string): Promise<SeqGapRow[]> {
    return this.db.selectFrom('seq_gaps').select(['lo', 'hi', 'state']).where('gw', '=', gw).execute();
  }
}
