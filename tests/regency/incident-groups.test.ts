import { describe, expect, it } from 'vitest';
import {
  groupIncidents,
  type LedgerOutage,
  measured,
  type PlannedWindow,
  type VillageIncident,
} from '../../src/regency/incidents/group.js';

const MIN = 60_000;
// A fixed past morning (data, not compared with today).
const T = Date.parse('2024-03-10T01:00:00Z');
const NOW = T + 600 * MIN;

const v = (code: string, kecamatan: string, isp: string | null) => ({ code, name: code, kecamatan, isp });
const A1 = v('3510010001', 'PESANGGARAN', 'ISP-A');
const A2 = v('3510010002', 'PESANGGARAN', 'ISP-A');
const B3 = v('3510010003', 'PESANGGARAN', 'ISP-B');
const C1 = v('3510020001', 'BANGOREJO', 'ISP-A');
const N1 = v('3510020002', 'BANGOREJO', null);
const N2 = v('3510020003', 'BANGOREJO', null);

const inc = (
  who: ReturnType<typeof v>,
  layer: string,
  from: number,
  to: number | null,
): VillageIncident & { measured: boolean } => ({
  ...who,
  layer,
  startMs: T + from * MIN,
  endMs: to === null ? null : T + to * MIN,
  measured: false,
});

const group = (list: ReturnType<typeof inc>[], windows: PlannedWindow[] = []) =>
  groupIncidents(list, windows, ['isp'], NOW).map((g) => [
    g.cause,
    g.scope,
    g.villages.map((m) => m.code.slice(-1)).join(''),
    (Date.parse(g.start) - T) / MIN,
    g.end === null ? null : (Date.parse(g.end) - T) / MIN,
    g.charged_to_isp,
  ]);

describe('fleet incidents: village outages grouped by shared cause', () => {
  it.each([
    [
      'one ISP cut over a kecamatan is one incident; another ISP at the same time is another',
      [inc(A1, 'isp', 10, 70), inc(A2, 'isp', 11, 72), inc(B3, 'isp', 12, 40)],
      [
        ['isp', 'isp', '12', 10, 72, true],
        ['isp', 'isp', '3', 12, 40, true],
      ],
    ],
    [
      'the same ISP across kecamatan overlapping is one; after it ended, a new one',
      [inc(A1, 'isp', 10, 70), inc(C1, 'isp', 30, 90), inc(A2, 'isp', 91, 95)],
      [
        ['isp', 'isp', '11', 10, 90, true],
        ['isp', 'isp', '2', 91, 95, true],
      ],
    ],
    [
      'overlapping but starting more than 30 min after every member: another incident',
      [inc(A1, 'isp', 10, 120), inc(C1, 'isp', 40, 90), inc(A2, 'isp', 71, 95)],
      [
        ['isp', 'isp', '11', 10, 120, true],
        ['isp', 'isp', '2', 71, 95, true],
      ],
    ],
    [
      'within 30 min of the latest member joins, so a cut rolling over villages stays one',
      [inc(A1, 'isp', 10, 200), inc(C1, 'isp', 35, 200), inc(A2, 'isp', 65, 200)],
      [['isp', 'isp', '121', 10, 200, true]],
    ],
    [
      'the regency server is one incident for every village, whatever its ISP, never charged',
      [inc(A1, 'regency', 100, 140), inc(B3, 'regency', 100, 141), inc(N1, 'regency', 101, 140)],
      [['regency', 'regency', '132', 100, 141, false]],
    ],
    [
      'a village LAN is its own; power groups by kecamatan; no ISP groups by kecamatan',
      [
        inc(A1, 'lan', 0, 5),
        inc(A2, 'lan', 1, 5),
        inc(N1, 'power', 20, 50),
        inc(N2, 'power', 30, 40),
        inc(N1, 'isp', 60, 65),
        inc(N2, 'isp', 61, 66),
      ],
      [
        ['lan', 'village', '1', 0, 5, false],
        ['lan', 'village', '2', 1, 5, false],
        ['power', 'kecamatan', '23', 20, 50, false],
        ['isp', 'kecamatan', '23', 60, 66, true],
      ],
    ],
    [
      'an open one keeps its group open, but only an outage starting within 30 min joins it',
      [inc(A1, 'isp', 10, null), inc(A2, 'isp', 40, 50), inc(C1, 'isp', 300, 310), inc(B3, 'isp', 301, 302)],
      [
        ['isp', 'isp', '12', 10, null, true],
        ['isp', 'isp', '1', 300, 310, true],
        ['isp', 'isp', '3', 301, 302, true],
      ],
    ],
    [
      'a regency server down days apart is two incidents though a village never came back',
      [inc(N1, 'regency', 0, null), inc(A1, 'regency', 10, 40), inc(B3, 'regency', 3000, 3040)],
      [
        ['regency', 'regency', '12', 0, null, false],
        ['regency', 'regency', '3', 3000, 3040, false],
      ],
    ],
  ])('%s', (_name, list, want) => {
    expect(group(list)).toEqual(want);
  });

  it('planned only when one window covers every village of it for its whole length', () => {
    const window = (startMin: number, endMin: number, isp: string): PlannedWindow => ({
      name: `works ${isp}`,
      startMs: T + startMin * MIN,
      endMs: T + endMin * MIN,
      applies: (x) => x.isp === isp,
    });
    const list = [inc(A1, 'isp', 10, 70), inc(A2, 'isp', 11, 72)];
    const planned = groupIncidents(list, [window(0, 120, 'ISP-A')], ['isp'], NOW)[0];
    expect([planned?.planned, planned?.charged_to_isp]).toEqual([['works ISP-A'], false]);
    // Overran the window by two minutes, or the window is another ISP's: charged.
    for (const w of [window(0, 71, 'ISP-A'), window(0, 120, 'ISP-B')]) {
      const g = groupIncidents(list, [w], ['isp'], NOW)[0];
      expect([g?.planned, g?.charged_to_isp]).toEqual([[], true]);
    }
  });

  it("a member is timed by the gateway's own outage record of the same layer when one overlaps", () => {
    const ledger: LedgerOutage[] = [
      { startMs: T + 9.5 * MIN, endMs: T + 69.2 * MIN, layer: 'isp' },
      { startMs: T + 200 * MIN, endMs: T + 210 * MIN, layer: 'isp' },
      { startMs: T + 8 * MIN, endMs: T + 80 * MIN, layer: 'lan' },
    ];
    const m = measured(inc(A1, 'isp', 10, 70), ledger, NOW);
    expect([m.measured, (m.startMs - T) / MIN, ((m.endMs ?? 0) - T) / MIN]).toEqual([true, 9.5, 69.2]);
    // No record of its layer overlapping: its samples' times stay.
    const n = measured(inc(A1, 'dns', 100, 110), ledger, NOW);
    expect([n.measured, (n.startMs - T) / MIN]).toEqual([false, 100]);
    // Open by its samples: a record does not close it.
    const o = measured(inc(A1, 'isp', 205, null), ledger, NOW);
    expect([o.measured, o.endMs]).toEqual([true, null]);
  });
});
