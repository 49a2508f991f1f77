import type { ReportRepo } from '../store/report-repo.js';
import type { VillageRegistry } from '../villages.js';
import type { WibPeriod } from './period.js';
import { type ReportVillage, reportVillages } from './report-villages.js';

export interface CompletenessVillage extends ReportVillage {
  /** false: nothing stored for that day (not the same as complete). */
  data: boolean;
  messages: number;
  duplicates: number;
  /** Seqs a health summary folded in (counted as received). */
  folded: number;
  seq: { min: number; max: number } | null;
  gaps: Array<{
    lo: number;
    hi: number;
    count: number;
    state: string;
    opened: string;
    closed: string | null;
  }>;
  open_gaps: number;
  /** Seqs received again with a new id: the gateway lost its counter in a power cut. */
  reused: Array<{ seq: number; boot: string; id: string; at: string }>;
}

export interface CompletenessReport {
  day: string;
  timezone: 'WIB';
  villages: CompletenessVillage[];
  total: {
    villages: number;
    with_data: number;
    messages: number;
    open_gaps: number;
    missing_seqs: number;
    reused: number;
  };
}

/** The completeness ledger of one WIB day, village by village: the proof nothing was lost. */
export async function completenessReport(
  repo: ReportRepo,
  registry: VillageRegistry,
  period: WibPeriod,
): Promise<CompletenessReport> {
  const day = period.label;
  const ledger = new Map((await repo.ledgerDay(day)).map((r) => [r.gw, r]));
  const gapRows = await repo.gapsFor(day, [...ledger.keys()]);
  const reuseRows = await repo.reuseOn(day);
  const villages = reportVillages(registry, [...ledger.keys(), ...reuseRows.map((r) => r.gw)]).map(
    (v): CompletenessVillage => {
      const l = ledger.get(v.code);
      const seq = l && l.min_seq !== null && l.max_seq !== null ? { min: l.min_seq, max: l.max_seq } : null;
      const gaps = gapRows
        .filter((g) => g.gw === v.code)
        .filter(
          (g) =>
            (g.opened_ms >= period.fromMs && g.opened_ms < period.toMs) ||
            (seq !== null && g.lo <= seq.max && g.hi >= seq.min),
        )
        .map((g) => ({
          lo: g.lo,
          hi: g.hi,
          count: g.hi - g.lo + 1,
          state: g.state,
          opened: new Date(g.opened_ms).toISOString(),
          closed: g.closed_ms === null ? null : new Date(g.closed_ms).toISOString(),
        }));
      return {
        ...v,
        data: l !== undefined && l.messages + l.duplicates + l.folded > 0,
        messages: l?.messages ?? 0,
        duplicates: l?.duplicates ?? 0,
        folded: l?.folded ?? 0,
        seq,
        gaps,
        open_gaps: gaps.filter((g) => g.state === 'open').length,
        reused: reuseRows
          .filter((r) => r.gw === v.code)
          .map((r) => ({ seq: r.seq, boot: r.boot, id: r.msg_id, at: new Date(r.at_ms).toISOString() })),
      };
    },
  );
  return {
    day,
    timezone: 'WIB',
    villages,
    total: {
      villages: villages.length,
      with_data: villages.filter((v) => v.data).length,
      messages: villages.reduce((n, v) => n + v.messages, 0),
      open_gaps: villages.reduce((n, v) => n + v.open_gaps, 0),
      missing_seqs: villages.reduce(
        (n, v) => n + v.gaps.filter((g) => g.state === 'open').reduce((a, g) => a + g.count, 0),
        0,
      ),
      reused: villages.reduce((n, v) => n + v.reused.length, 0),
    },
  };
}
