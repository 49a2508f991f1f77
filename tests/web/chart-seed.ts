import { seedDemoHistory } from '../../src/demo/history-seed.js';
import type { Harness } from './harness.js';

/**
 * The demo's seeded week (src/demo/history-seed.ts), with its marks at fixed dates so the
 * tests can name them: ISP cuts on two evenings at 18:00–19:00 WIB (Wednesday 25 and
 * Thursday 26 November 2026) and one hour of undervoltage, on the harness's fake clock.
 */
export const H = 3_600_000;
export const CUTS = [Date.parse('2026-11-25T11:00:00Z'), Date.parse('2026-11-26T11:00:00Z')];
export const UNDERVOLTAGE_HOUR = Date.parse('2026-11-27T05:00:00Z');

export function seedCharts(h: Harness): void {
  seedDemoHistory(h.app, { cuts: CUTS, undervoltageHour: UNDERVOLTAGE_HOUR });
}
