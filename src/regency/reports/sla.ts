import { pct, round1 } from './report-villages.js';

type Contract = { isp: string; slo_pct: number };

/** A village's or an ISP's standing against its contract for the period. */
export interface SlaFigures {
  /** The contract's promise; null when the ISP has no contract configured. */
  slo_pct: number | null;
  /** Minutes down in the charged fault layers, outside declared maintenance. */
  charged_down_min: number;
  /** Availability counting only the charged minutes; null without data. */
  availability_pct: number | null;
  /** null: no contract, or no data to judge by. */
  met: boolean | null;
}

function sloOf(contracts: readonly Contract[], isp: string | null): number | null {
  return isp === null ? null : (contracts.find((c) => c.isp === isp)?.slo_pct ?? null);
}

export function villageSla(
  contracts: readonly Contract[],
  isp: string | null,
  data: boolean,
  chargedMin: number,
  measuredMin: number,
): SlaFigures {
  const slo = sloOf(contracts, isp);
  const availability = data && measuredMin > 0 ? pct(chargedMin, measuredMin) : null;
  return {
    slo_pct: slo,
    charged_down_min: round1(chargedMin),
    availability_pct: availability,
    met: slo === null || availability === null ? null : availability >= slo,
  };
}

/**
 * An ISP over its villages with data: charged minutes over measured minutes; the villages
 * that missed the SLO on their own are listed as breaches (codes).
 */
export function ispSla(
  contracts: readonly Contract[],
  isp: string | null,
  vs: ReadonlyArray<{ code: string; data: boolean; measured_min: number; sla: SlaFigures }>,
): SlaFigures & { breaches: string[] } {
  const slo = sloOf(contracts, isp);
  const withData = vs.filter((v) => v.data);
  const measured = withData.reduce((n, v) => n + v.measured_min, 0);
  const charged = withData.reduce((n, v) => n + v.sla.charged_down_min, 0);
  const availability = measured > 0 ? pct(charged, measured) : null;
  return {
    slo_pct: slo,
    charged_down_min: round1(charged),
    availability_pct: availability,
    met: slo === null || availability === null ? null : availability >= slo,
    breaches: vs.filter((v) => v.sla.met === false).map((v) => v.code),
  };
}
