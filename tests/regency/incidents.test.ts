import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveIncidents, type VerdictSample } from '../../src/regency/incidents/derive.js';
import type { IncidentRow } from '../../src/regency/incidents/incident-report.js';
import type { Envelope } from '../../src/report/envelope.js';
import { waitFor } from '../helpers/net.js';
import { RegencyFixture } from './fixture.js';
import { DIALECTS, type RegencyDaemon, type VillagePublisher } from './helpers.js';
import { healthOf } from './seed.js';

const MIN = 60_000;
// A fixed past day (data, not compared with today): 2024-03-10 03:00 UTC = 10:00 WIB.
const T = Date.parse('2024-03-10T03:00:00Z');

describe('incident derivation', () => {
  const s = (i: number, verdict: string, layer: string | null = null, boot = 'b1'): VerdictSample => ({
    boot,
    seq: i + 1,
    fromMs: T + i * MIN,
    toMs: T + i * MIN,
    verdict,
    layer,
    downProbes: verdict === 'down' ? 1 : 0,
    unsynced: false,
  });
  const opts = { gapMs: 3 * MIN, nowMs: T + 60 * MIN };

  it('a run of down samples is one incident per layer; a layer change starts another', () => {
    const list = [s(0, 'up'), s(1, 'down', 'isp'), s(2, 'down', 'isp'), s(3, 'down', 'lan'), s(4, 'up')];
    const got = deriveIncidents(list, [], opts);
    expect(
      got.map((i) => [i.layer, (i.startMs - T) / MIN, ((i.endMs ?? 0) - T) / MIN, i.evidence.probes]),
    ).toEqual([
      ['isp', 1, 3, 2],
      ['lan', 3, 4, 1],
    ]);
    expect(got.every((i) => !i.open && !i.interrupted)).toBe(true);
  });

  it('a silence inside an outage marks it interrupted; a new boot after silence is a power incident', () => {
    const list = [
      s(0, 'down', 'isp'),
      s(10, 'down', 'isp'),
      s(11, 'up'),
      s(12, 'up'),
      s(30, 'up', null, 'b2'),
    ];
    const got = deriveIncidents(list, [{ lo: 3, hi: 5, state: 'open' }], opts);
    expect(got.map((i) => [i.layer, i.interrupted, i.evidence.data_gaps, i.evidence.seq_gaps])).toEqual([
      ['isp', true, 1, 1],
      ['power', false, 1, 0],
    ]);
    expect([got[1]?.startMs, got[1]?.endMs]).toEqual([T + 12 * MIN, T + 30 * MIN]);
  });

  it('down at the last sample is open; repaired seq gaps are not evidence against it', () => {
    const got = deriveIncidents(
      [s(0, 'up'), s(58, 'down', 'regency'), s(59, 'down', 'regency')],
      [{ lo: 59, hi: 59, state: 'repaired' }],
      opts,
    );
    expect(got).toHaveLength(1);
    expect([got[0]?.open, got[0]?.endMs, got[0]?.interrupted, got[0]?.evidence.seq_gaps]).toEqual([
      true,
      null,
      false,
      0,
    ]);
    // The same history read long after: the village has said nothing since, a data gap.
    expect(
      deriveIncidents([s(58, 'down', 'regency')], [], { ...opts, nowMs: T + 600 * MIN })[0]?.interrupted,
    ).toBe(true);
  });
});

const A = '3510170012';
const B = '3510170013';
const C = '3510180001';
const D = '3510180002';
const VILLAGES = [
  'code,name,kecamatan,isp',
  `${A},=Kemiren,Glagah,Telkom`,
  `${B},Olehsari,Glagah,Lintas`,
  `${C},Giri,Giri,Telkom`,
  `${D},Penataban,Giri,Telkom`,
];

describe.each(DIALECTS)('incidents over HTTP (%s)', (dialect) => {
  const f = new RegencyFixture({ dialect, prefix: 'kgw-regency-inc-', villages: VILLAGES });
  const pub: VillagePublisher = f.pub;
  let daemon: RegencyDaemon;
  let total = 0;

  const send = async (
    gw: string,
    minute: number,
    verdict: string,
    layer: string | null,
    o: { boot?: string; seq?: number } = {},
  ) => {
    const env: Envelope = healthOf(pub, gw, { verdict, fault_layer: layer, ts: T + minute * MIN });
    if (o.boot) env.boot = o.boot;
    if (o.seq !== undefined) env.seq = o.seq;
    await pub.publish(env, 'health');
    total++;
  };

  beforeAll(async () => {
    await f.start();
    daemon = f.daemon;
    // A: ISP down 10:10–10:25 WIB with a 5-minute silence inside it (seqs lost) → interrupted.
    for (let m = 0; m <= 40; m++) {
      if (m >= 15 && m < 20) {
        pub.envelope(A, 'health'); // a seq used and lost on the way
        continue;
      }
      await send(A, m, m >= 10 && m < 25 ? 'down' : 'up', m >= 10 && m < 25 ? 'isp' : null);
    }
    // B: the regency server unreachable from 10:30 to the end of its data → open.
    for (let m = 0; m <= 40; m++) await send(B, m, m >= 30 ? 'down' : 'up', m >= 30 ? 'regency' : null);
    // C: power cut: boot b1 until 10:10, silence, boot b2 from 10:40 (its counter rolled back).
    for (let m = 0; m <= 10; m++) await send(C, m, 'up', null, { boot: 'b1', seq: 100 + m });
    for (let m = 40; m <= 45; m++) await send(C, m, 'up', null, { boot: 'b2', seq: 60 + m });
    // D: a backlog folded into one summary (10:05–10:20 WIB, 15 probe samples down), then up.
    await send(D, 0, 'up', null);
    const folded = healthOf(pub, D, { verdict: 'down', fault_layer: 'isp', ts: T + 20 * MIN });
    (folded.data as Record<string, unknown>).summary = {
      from: new Date(T + 5 * MIN).toISOString(),
      to: new Date(T + 20 * MIN).toISOString(),
      samples: 16,
      folded_seqs: [],
      link_verdicts: { down: 15, up: 1 },
    };
    await pub.publish(folded, 'health');
    total++;
    await send(D, 21, 'up', null);
    await waitFor(async () => {
      const r = await daemon.http<{ total: { messages: number } }>('/api/v1/completeness?day=2024-03-10');
      return r.status === 200 && r.body.total.messages >= total;
    }, 20_000);
  });
  afterAll(() => f.stop());

  const get = (q: string) =>
    daemon.http<{ incidents: IncidentRow[]; gap_s: number }>(`/api/v1/incidents${q}`);

  it('lists each village incident with layer, ISP, times, state and evidence', async () => {
    const r = await get('?from=2024-03-10&to=2024-03-11');
    expect(r.status).toBe(200);
    expect(r.body.gap_s).toBe(180);
    const by = (code: string) => r.body.incidents.filter((i) => i.code === code);
    const [a] = by(A);
    expect(by(A)).toHaveLength(1);
    expect(a).toMatchObject({
      name: '=Kemiren',
      isp: 'Telkom',
      layer: 'isp',
      start: '2024-03-10T03:10:00.000Z',
      end: '2024-03-10T03:25:00.000Z',
      duration_s: 900,
      state: 'closed',
      interrupted: true,
    });
    expect(a?.evidence).toMatchObject({ messages: 10, probes: 10, data_gaps: 1 });
    expect(a?.evidence.seq_gaps).toBeGreaterThanOrEqual(1);
    const [b] = by(B);
    expect(b).toMatchObject({
      layer: 'regency',
      start: '2024-03-10T03:30:00.000Z',
      end: null,
      state: 'open',
    });
    // Read years later, an open incident without data since is interrupted: nobody knows its end.
    expect(b?.interrupted).toBe(true);
    expect(by(C).map((i) => [i.layer, i.start, i.end, i.state])).toEqual([
      ['power', '2024-03-10T03:10:00.000Z', '2024-03-10T03:40:00.000Z', 'closed'],
    ]);
    // The folded summary: from its own start, its down probe samples counted.
    expect(by(D).map((i) => [i.layer, i.start, i.end, i.evidence.probes, i.evidence.messages])).toEqual([
      ['isp', '2024-03-10T03:05:00.000Z', '2024-03-10T03:21:00.000Z', 15, 1],
    ]);
    // Newest first (same start: by code).
    expect(r.body.incidents.map((i) => i.code)).toEqual([B, A, C, D]);
  });

  it('filters by village and layer; refuses what it cannot read', async () => {
    expect(
      (await get(`?from=2024-03-10&to=2024-03-11&village=${A}`)).body.incidents.map((i) => i.code),
    ).toEqual([A]);
    expect(
      (await get('?from=2024-03-10&to=2024-03-11&layer=power')).body.incidents.map((i) => i.code),
    ).toEqual([C]);
    // Outside the window: nothing.
    expect((await get('?from=2024-03-12&to=2024-03-13')).body.incidents).toEqual([]);
    for (const q of [
      '?layer=fiber',
      '?village=12',
      '?from=kemarin',
      '?from=2024-03-11&to=2024-03-10',
      '?from=2023-01-01&to=2024-03-10',
      '?format=xls',
    ])
      expect((await get(q)).status, q).toBe(400);
    expect((await daemon.http('/api/v1/incidents', { anonymous: true })).status).toBe(401);
  });

  it('exports CSV with formula-like names neutralised', async () => {
    const r = await daemon.http('/api/v1/incidents?from=2024-03-10&to=2024-03-11&format=csv');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toContain('text/csv');
    const lines = r.text.trimEnd().split('\r\n');
    expect(lines[0]).toBe(
      'code,name,kecamatan,isp,layer,start,end,duration_s,state,interrupted,probes,messages,seq_gaps,data_gaps,unsynced',
    );
    expect(lines).toHaveLength(5);
    const a = lines.find((l) => l.startsWith(A));
    expect(a).toContain(
      `${A},'=Kemiren,Glagah,Telkom,isp,2024-03-10T03:10:00.000Z,2024-03-10T03:25:00.000Z,900,closed,yes,10,10,`,
    );
  });
});
