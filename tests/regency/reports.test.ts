import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AvailabilityReport } from '../../src/regency/reports/availability.js';
import type { CompletenessReport } from '../../src/regency/reports/completeness.js';
import type { UsageReport } from '../../src/regency/reports/usage.js';
import { waitFor } from '../helpers/net.js';
import { RegencyFixture } from './fixture.js';
import { DIALECTS, type RegencyDaemon, type VillagePublisher } from './helpers.js';

// Four villages of a small regency, two kecamatan, two ISPs (and one without), and a name a
// CSV must quote. E reports without being in the registry.
const A = '3510170012';
const B = '3510170013';
const C = '3510180001';
const D = '3510180002';
const E = '3599999999';
const VILLAGES = [
  'code,name,kecamatan,isp',
  `${A},Kemiren,Glagah,Telkom`,
  `${B},"Desa ""Baru"", Timur",Glagah,Lintas`,
  `${C},Giri,Giri,Telkom`,
  `${D},Penataban,Giri,`,
];

// Fixed past dates (data, not compared with today): March 2024 in WIB runs from
// 2024-02-29T17:00Z to 2024-03-31T17:00Z.
const outage = (start: string, end: string, layer: string | null) => ({
  start,
  end,
  duration_s: (Date.parse(end) - Date.parse(start)) / 1000,
  fault_layer: layer,
});
const use = (id: string, service: string, at: string) => ({ id, type: 'service_use', service, at });

describe.each(DIALECTS)('regency reports and completeness (%s)', (dialect) => {
  const f = new RegencyFixture({ dialect, prefix: 'kgw-regency-rep-', villages: VILLAGES });
  const pub: VillagePublisher = f.pub;
  let daemon: RegencyDaemon;

  beforeAll(async () => {
    await f.start();
    daemon = f.daemon;
    const sent: Array<[ReturnType<VillagePublisher['envelopeAt']>, 'outage' | 'usage' | 'event']> = [];
    const send = (gw: string, kind: 'outage' | 'usage' | 'event', data: unknown, ts: string, seq?: number) =>
      sent.push([pub.envelopeAt(gw, data, ts, seq), kind]);
    // A: Feb 29 23:50 → Mar 1 00:10 WIB (10 min each side of the month), 45 min ISP in March,
    // Mar 31 23:30 → Apr 1 00:30 WIB (30 min each side), the last one also replayed with a new id.
    send(A, 'outage', outage('2024-02-29T16:50:00Z', '2024-02-29T17:10:00Z', 'dns'), '2024-02-29T17:10:01Z');
    send(A, 'outage', outage('2024-03-10T03:00:00Z', '2024-03-10T03:45:00Z', 'isp'), '2024-03-10T03:45:01Z');
    send(A, 'outage', outage('2024-03-31T16:30:00Z', '2024-03-31T17:30:00Z', 'lan'), '2024-03-31T17:30:01Z');
    send(A, 'outage', outage('2024-03-31T16:30:00Z', '2024-03-31T17:30:00Z', 'lan'), '2024-03-31T17:30:02Z');
    // Usage: one event just before the WIB month end, one just after, a repeat and another service.
    const late = use('ev-1', 'adminduk', '2024-03-31T16:59:00Z');
    send(
      A,
      'usage',
      { device_id: 'adm-1', events: [late, use('ev-2', 'adminduk', '2024-03-31T17:01:00Z')] },
      '2024-03-31T17:05:00Z',
    );
    send(
      A,
      'usage',
      { device_id: 'adm-1', events: [late, use('ev-3', 'kk', '2024-03-05T02:00:00Z')] },
      '2024-03-31T17:06:00Z',
    );
    send(
      C,
      'usage',
      { device_id: 'adm-1', events: [use('ev-1', 'kk', '2024-03-20T02:00:00Z')] },
      '2024-03-20T02:00:00Z',
    );
    // B: seqs 1, 2, 4 on 2024-03-15 WIB (gap 3) and seq 2 again with a new id (counter lost).
    const ev = (n: number) => ({ code: 'link_changed', severity: 'info', message: `m${n}` });
    send(B, 'event', ev(1), '2024-03-15T01:00:00Z', 1);
    send(B, 'event', ev(2), '2024-03-15T01:01:00Z', 2);
    send(B, 'event', ev(4), '2024-03-15T01:03:00Z', 4);
    send(B, 'event', ev(5), '2024-03-15T01:04:00Z', 2);
    send(E, 'event', ev(1), '2024-03-15T02:00:00Z');
    for (const [env, kind] of sent) await pub.publish(env, kind);
    await waitFor(async () => {
      const r = await daemon.http<{ messages: number }[]>('/metrics');
      return /kampung_regency_messages_total (\d+)/.exec(r.text)?.[1] === String(sent.length);
    }, 20_000);
  });
  afterAll(() => f.stop());

  const availability = async (month: string) =>
    (await daemon.http<AvailabilityReport>(`/api/v1/reports/availability?month=${month}`)).body;

  it('counts minutes down per fault layer within the WIB month, an outage spanning two months on both sides', async () => {
    const march = await availability('2024-03');
    expect(march).toMatchObject({
      month: '2024-03',
      timezone: 'WIB',
      from: '2024-02-29T17:00:00.000Z',
      minutes: 44640,
    });
    const a = march.villages.find((v) => v.code === A);
    expect(a).toMatchObject({ data: true, outages: 3, down_min_total: 85, availability_pct: 99.81 });
    expect(a?.down_min).toEqual({ lan: 30, isp: 45, dns: 10, internet: 0, regency: 0, unknown: 0 });
    const feb = (await availability('2024-02')).villages.find((v) => v.code === A);
    expect(feb).toMatchObject({ outages: 1, down_min_total: 10, down_min: { dns: 10 } });
    const apr = (await availability('2024-04')).villages.find((v) => v.code === A);
    expect(apr).toMatchObject({ outages: 1, down_min_total: 30, down_min: { lan: 30 } });
  });

  it('marks villages without data as such, groups by kecamatan and ISP, lists unknown villages', async () => {
    const march = await availability('2024-03');
    expect(march.villages.map((v) => [v.code, v.data, v.availability_pct])).toEqual([
      [A, true, 99.81],
      [B, true, 100],
      [C, true, 100],
      [D, false, null],
      [E, true, 100],
    ]);
    expect(march.villages.at(-1)).toMatchObject({ known: false, kecamatan: null });
    const glagah = march.kecamatan.find((k) => k.kecamatan === 'Glagah');
    expect(glagah).toMatchObject({ villages: 2, with_data: 2, outages: 3, down_min_total: 85 });
    expect(glagah?.availability_pct).toBeCloseTo(100 * (1 - 85 / (2 * 44640)), 2);
    expect(march.kecamatan.find((k) => k.kecamatan === 'Giri')).toMatchObject({
      villages: 2,
      with_data: 1,
      availability_pct: 100,
    });
    expect(march.isp.map((g) => [g.isp, g.villages, g.down_min_total])).toEqual([
      ['Telkom', 2, 85],
      ['Lintas', 1, 0],
      [null, 2, 0],
    ]);
    // A month nobody reported in: no data anywhere, not 100 %.
    const empty = await availability('2023-01');
    expect(empty.villages.every((v) => v.availability_pct === null && !v.data)).toBe(true);
    expect(empty.total.availability_pct).toBeNull();
  });

  it('serves the availability report as CSV with a header, quoting and an attachment name', async () => {
    const res = await fetch(
      `http://127.0.0.1:${daemon.port}/api/v1/reports/availability?month=2024-03&format=csv`,
      { headers: { cookie: daemon.cookie } },
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="availability-2024-03.csv"');
    const lines = (await res.text()).split('\r\n');
    expect(lines[0]).toBe(
      'level,kecamatan,isp,code,name,data,outages,down_min_total,down_min_lan,down_min_isp,down_min_dns,down_min_internet,down_min_regency,down_min_unknown,availability_pct,maintenance_min,excluded_down_min,sla_charged_down_min,sla_availability_pct,slo_pct,slo_met',
    );
    expect(lines).toContain(`village,Glagah,Telkom,${A},Kemiren,yes,3,85,30,45,10,0,0,0,99.81,0,0,45,99.9,,`);
    expect(lines).toContain(
      `village,Glagah,Lintas,${B},"Desa ""Baru"", Timur",yes,0,0,0,0,0,0,0,0,100,0,0,0,100,,`,
    );
    expect(lines).toContain(`village,Giri,,${D},Penataban,no,0,0,0,0,0,0,0,0,,0,0,0,,,`);
    expect(lines.filter((l) => l.startsWith('kecamatan,'))).toHaveLength(3);
    expect(lines.filter((l) => l.startsWith('isp,'))).toHaveLength(3);
    expect(lines.at(-2)?.startsWith('total,')).toBe(true);
    expect(lines.at(-1)).toBe('');
  });

  it('counts usage per service per village and kecamatan, each event once, in its WIB month', async () => {
    const r = (await daemon.http<UsageReport>('/api/v1/reports/usage?month=2024-03')).body;
    expect(r.services).toEqual(['adminduk', 'kk']);
    expect(r.villages.find((v) => v.code === A)).toMatchObject({
      by_service: { adminduk: 1, kk: 1 },
      total: 2,
    });
    expect(r.villages.find((v) => v.code === C)).toMatchObject({
      by_service: { adminduk: 0, kk: 1 },
      total: 1,
    });
    expect(r.villages.find((v) => v.code === D)).toMatchObject({ data: false, total: 0 });
    expect(r.kecamatan).toEqual([
      { kecamatan: 'Glagah', villages: 2, by_service: { adminduk: 1, kk: 1 }, total: 2 },
      { kecamatan: 'Giri', villages: 2, by_service: { adminduk: 0, kk: 1 }, total: 1 },
    ]);
    const apr = (await daemon.http<UsageReport>('/api/v1/reports/usage?month=2024-04')).body;
    expect(apr.total).toEqual({ by_service: { adminduk: 1 }, total: 1 });
    const csv = await fetch(`http://127.0.0.1:${daemon.port}/api/v1/reports/usage?month=2024-03&format=csv`, {
      headers: { cookie: daemon.cookie },
    });
    expect(csv.headers.get('content-disposition')).toBe('attachment; filename="usage-2024-03.csv"');
    const lines = (await csv.text()).split('\r\n');
    expect(lines[0]).toBe('level,kecamatan,isp,code,name,adminduk,kk,total');
    expect(lines).toContain(`village,Glagah,Telkom,${A},Kemiren,1,1,2`);
    expect(lines).toContain('total,,,,,1,2,3');
  });

  it('shows the completeness ledger of a WIB day: messages, seq range, gaps, reused seqs', async () => {
    const r = (await daemon.http<CompletenessReport>('/api/v1/completeness?day=2024-03-15')).body;
    const b = r.villages.find((v) => v.code === B);
    expect(b).toMatchObject({ data: true, messages: 4, seq: { min: 1, max: 4 }, open_gaps: 1 });
    expect(b?.gaps).toMatchObject([{ lo: 3, hi: 3, count: 1, state: 'open' }]);
    expect(b?.reused).toMatchObject([{ seq: 2 }]);
    expect(r.villages.find((v) => v.code === D)).toMatchObject({
      data: false,
      messages: 0,
      seq: null,
      gaps: [],
    });
    expect(r.villages.find((v) => v.code === E)).toMatchObject({ known: false, messages: 1 });
    expect(r.total).toMatchObject({ open_gaps: 1, missing_seqs: 1, reused: 1 });
  });

  it('refuses a malformed month, day or format with 400', async () => {
    for (const q of [
      '/api/v1/reports/availability?month=2024-13',
      '/api/v1/reports/availability',
      '/api/v1/reports/usage?month=2024-03&format=xls',
      '/api/v1/completeness?day=2024-02-30',
    ]) {
      const r = await daemon.http<{ error: string }>(q);
      expect(r.status, q).toBe(400);
      expect(r.body.error, q).toBe('GW_ERR_VALIDATION');
    }
  });
});
