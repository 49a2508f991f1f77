import type { AvailabilityFigures, AvailabilityReport } from './availability.js';
import { type CsvCell, toCsv } from './csv.js';
import type { SlaFigures } from './sla.js';
import type { UsageCounts, UsageReport } from './usage.js';

/**
 * The reports as spreadsheets: one row per village (`level` village), then one subtotal row
 * per kecamatan, per ISP (availability only) and the total. Empty availability means no data.
 */
export function availabilityCsv(r: AvailabilityReport): string {
  const header = [
    'level',
    'kecamatan',
    'isp',
    'code',
    'name',
    'data',
    'outages',
    'down_min_total',
    ...r.layers.map((l) => `down_min_${l}`),
    'availability_pct',
    'maintenance_min',
    'excluded_down_min',
    'sla_charged_down_min',
    'sla_availability_pct',
    'slo_pct',
    'slo_met',
  ];
  const figures = (f: AvailabilityFigures): CsvCell[] => [
    f.outages,
    f.down_min_total,
    ...r.layers.map((l) => f.down_min[l] ?? 0),
    f.availability_pct,
    f.maintenance_min,
    f.excluded_down_min,
  ];
  const sla = (s: SlaFigures | null): CsvCell[] =>
    s ? [s.charged_down_min, s.availability_pct, s.slo_pct, s.met] : [null, null, null, null];
  const rows: CsvCell[][] = [
    ...r.villages.map((v) => [
      'village',
      v.kecamatan,
      v.isp,
      v.code,
      v.name,
      v.data,
      ...figures(v),
      ...sla(v.sla),
    ]),
    ...r.kecamatan.map((k) => [
      'kecamatan',
      k.kecamatan,
      null,
      null,
      null,
      k.with_data > 0,
      ...figures(k),
      ...sla(null),
    ]),
    ...r.isp.map((k) => ['isp', null, k.isp, null, null, k.with_data > 0, ...figures(k), ...sla(k.sla)]),
    ['total', null, null, null, null, r.total.with_data > 0, ...figures(r.total), ...sla(null)],
  ];
  return toCsv(header, rows);
}

export function usageCsv(r: UsageReport): string {
  const header = ['level', 'kecamatan', 'isp', 'code', 'name', ...r.services, 'total'];
  const counts = (c: UsageCounts): CsvCell[] => [...r.services.map((s) => c.by_service[s] ?? 0), c.total];
  const rows: CsvCell[][] = [
    ...r.villages.map((v) => ['village', v.kecamatan, v.isp, v.code, v.name, ...counts(v)]),
    ...r.kecamatan.map((k) => ['kecamatan', k.kecamatan, null, null, null, ...counts(k)]),
    ['total', null, null, null, null, ...counts(r.total)],
  ];
  return toCsv(header, rows);
}
