import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { classify } from '../../src/regency/classify.js';
import { validateRegencyConfigText } from '../../src/regency/config.js';
import type { RegencyConfig } from '../../src/regency/config-schema.js';
import { availabilityReport } from '../../src/regency/reports/availability.js';
import { windowsIn } from '../../src/regency/reports/maintenance.js';
import { wibMonth } from '../../src/regency/reports/period.js';
import { availabilityCsv } from '../../src/regency/reports/report-csv.js';
import { IngestRepo } from '../../src/regency/store/ingest-repo.js';
import { type OpenedDb, openRegencyDb } from '../../src/regency/store/open-db.js';
import { ReportRepo } from '../../src/regency/store/report-repo.js';
import { VillageRegistry } from '../../src/regency/villages.js';
import { encodeEnvelope } from '../../src/report/envelope.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { tempDir } from '../helpers/tmp.js';
import { DIALECTS, regencyConfig, TestStore, VillagePublisher } from './helpers.js';

// Fixed past dates (data, never compared with today). March 2024 in WIB: 44640 minutes,
// from 2024-02-29T17:00Z; its Sundays are the 3rd, 10th, 17th, 24th and 31st.
const A = '3510170012';
const B = '3510170013';
const C = '3510180001';
const VILLAGES_CSV = [
  'code,name,kecamatan,isp',
  `${A},Kemiren,Glagah,Telkom`,
  `${B},Olehsari,Glagah,Lintas`,
  `${C},Giri,Giri,Telkom`,
].join('\n');
const MARCH_MIN = 31 * 1440;

const SLA_YAML = {
  sla: {
    contracts: [
      { isp: 'Telkom', slo_pct: 99.5 },
      { isp: 'Lintas', slo_pct: 99.5 },
    ],
  },
  maintenance: [
    // Telkom's fiber works, one night, for one kecamatan only.
    {
      name: 'Perbaikan FO Telkom',
      isp: 'Telkom',
      kecamatan: 'Glagah',
      start: '2024-03-13 01:00',
      end: '2024-03-13 03:00',
    },
    // Lintas's weekly window.
    {
      name: 'Pemeliharaan mingguan Lintas',
      isp: 'Lintas',
      weekly: { days: ['sun'], from: '02:00', to: '04:00' },
    },
  ],
};

function validate(extra: Record<string, unknown>, dir: string) {
  const store = new TestStore('sqlite', dir);
  return validateRegencyConfigText(
    stringify(regencyConfig(store, 'mqtt://127.0.0.1:1', extra)),
    `${dir}/r.yaml`,
  );
}

describe('SLA and maintenance config', () => {
  const tmp = tempDir('kgw-regency-slacfg-');
  afterAll(() => tmp.cleanup());

  it('reads contracts and windows; charged layers default to isp', () => {
    const r = validate(SLA_YAML, tmp.path);
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    expect(r.config.sla.charged_layers).toEqual(['isp']);
    expect(r.config.maintenance).toHaveLength(2);
    const none = validate({}, tmp.path);
    expect(none.ok && none.config.maintenance.length === 0 && none.config.sla.contracts.length === 0).toBe(
      true,
    );
  });

  it.each([
    [{ maintenance: [{ name: 'x', start: '2024-03-13 01:00' }] }, 'maintenance[0]'],
    [
      { maintenance: [{ name: 'x', start: '2024-03-13 03:00', end: '2024-03-13 01:00' }] },
      'maintenance[0].end',
    ],
    [
      { maintenance: [{ name: 'x', start: '2024-02-30 01:00', end: '2024-03-01 01:00' }] },
      'maintenance[0].start',
    ],
    [{ maintenance: [{ name: 'x' }] }, 'maintenance[0]'],
    [
      {
        maintenance: [
          {
            name: 'x',
            start: '2024-03-13 01:00',
            end: '2024-03-13 03:00',
            weekly: { days: ['sun'], from: '01:00', to: '02:00' },
          },
        ],
      },
      'maintenance[0]',
    ],
    [
      { maintenance: [{ name: 'x', weekly: { days: ['sun'], from: '23:00', to: '01:00' } }] },
      'maintenance[0].weekly.to',
    ],
    [
      { maintenance: [{ name: 'x', weekly: { days: ['minggu'], from: '01:00', to: '02:00' } }] },
      'maintenance[0].weekly.days[0]',
    ],
    [
      { maintenance: [{ name: 'x', start: '13/03/2024 01:00', end: '2024-03-13 03:00' }] },
      'maintenance[0].start',
    ],
    [
      {
        sla: {
          contracts: [
            { isp: 'T', slo_pct: 99 },
            { isp: 'T', slo_pct: 98 },
          ],
        },
      },
      'sla.contracts[1].isp',
    ],
    [{ sla: { contracts: [{ isp: 'T', slo_pct: 101 }] } }, 'sla.contracts[0].slo_pct'],
    [{ sla: { charged_layers: ['fiber'] } }, 'sla.charged_layers[0]'],
  ])('refuses %j at %s', (extra, path) => {
    const r = validate(extra, tmp.path);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.issues.map((i) => i.path)).toContain(path);
  });

  it('expands weekly windows in WIB and clips one-off windows to the period', () => {
    const march = wibMonth('2024-03');
    const r = validate(SLA_YAML, tmp.path);
    if (!r.ok) throw new Error('config');
    const ws = windowsIn(r.config.maintenance, march.fromMs, march.toMs);
    const weekly = ws.filter((w) => w.isp === 'Lintas');
    // 02:00 WIB on each Sunday = 19:00 UTC on the Saturday before.
    expect(weekly.map((w) => w.startMs)).toEqual(
      ['2024-03-02', '2024-03-09', '2024-03-16', '2024-03-23', '2024-03-30'].map((d) =>
        Date.parse(`${d}T19:00:00Z`),
      ),
    );
    expect(weekly.every((w) => w.endMs - w.startMs === 2 * 3_600_000)).toBe(true);
    const across = windowsIn(
      [{ name: 'x', start: '2024-03-31 23:00', end: '2024-04-01 02:00' }],
      march.fromMs,
      march.toMs,
    );
    expect(across.map((w) => (w.endMs - w.startMs) / 60_000)).toEqual([60]);
  });
});

describe.each(DIALECTS)('availability with SLA and maintenance (%s)', (dialect) => {
  const tmp = tempDir('kgw-regency-sla-');
  const store = new TestStore(dialect, tmp.path);
  const pub = new VillagePublisher();
  const clock = new FakeClock({ wall: Date.parse('2024-04-15T05:00:00Z') });
  let opened: OpenedDb;
  let repo: ReportRepo;
  let registry: VillageRegistry;
  let config: RegencyConfig;

  const outage = (gw: string, start: string, end: string, layer: string) => {
    const env = pub.envelopeAt(
      gw,
      { start, end, duration_s: (Date.parse(end) - Date.parse(start)) / 1000, fault_layer: layer },
      new Date(Date.parse(end) + 1000).toISOString(),
    );
    return {
      item: classify('kampung/v1', `kampung/v1/${gw}/outage`, Buffer.from(encodeEnvelope(env)), false),
      atMs: Date.parse(end) + 2000,
    };
  };

  beforeAll(async () => {
    await store.create();
    const file = join(tmp.path, 'villages.csv');
    writeFileSync(file, VILLAGES_CSV);
    registry = VillageRegistry.load(file);
    const r = validate({ ...SLA_YAML, database: { url: store.url }, data_dir: store.dataDir }, tmp.path);
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    config = r.config;
    opened = await openRegencyDb(config, pino({ level: 'silent' }));
    repo = new ReportRepo({ db: opened.db });
    const ingest = new IngestRepo({
      db: opened.db,
      dialect: opened.dialect,
      sqlite: opened.sqlite,
      repairAfterMs: 300_000,
    });
    await ingest.commit([
      // A: 45 min ISP (charged), 120 min ISP inside Telkom's declared works (01:00–03:00 WIB on
      // the 13th = 18:00–20:00Z on the 12th; excluded), 60 min regency server (not the ISP's).
      outage(A, '2024-03-10T03:00:00Z', '2024-03-10T03:45:00Z', 'isp'),
      outage(A, '2024-03-12T18:00:00Z', '2024-03-12T20:00:00Z', 'isp'),
      outage(A, '2024-03-20T01:00:00Z', '2024-03-20T02:00:00Z', 'regency'),
      // B: 5 h ISP on a Tuesday, and 1 h ISP of which 30 min inside Sunday's window (02:00 WIB).
      outage(B, '2024-03-05T01:00:00Z', '2024-03-05T06:00:00Z', 'isp'),
      outage(B, '2024-03-09T18:30:00Z', '2024-03-09T19:30:00Z', 'isp'),
      // C: a LAN fault at the village itself: down, but never the ISP's.
      outage(C, '2024-03-07T00:00:00Z', '2024-03-07T10:00:00Z', 'lan'),
    ]);
  });
  afterAll(async () => {
    await opened?.db.destroy();
    await store.drop();
    tmp.cleanup();
  });

  it('excludes declared maintenance, shows it, and judges each village and ISP against its SLO', async () => {
    const r = await availabilityReport(repo, registry, wibMonth('2024-03'), clock.wallMs(), config);
    const v = (code: string) => r.villages.find((x) => x.code === code);
    expect(r.maintenance.map((m) => [m.name, m.minutes])).toEqual([
      ['Pemeliharaan mingguan Lintas', 120],
      ['Pemeliharaan mingguan Lintas', 120],
      ['Perbaikan FO Telkom', 120],
      ['Pemeliharaan mingguan Lintas', 120],
      ['Pemeliharaan mingguan Lintas', 120],
      ['Pemeliharaan mingguan Lintas', 120],
    ]);
    expect(r.sla.charged_layers).toEqual(['isp']);
    expect(r.method).toMatch(/maintenance/);

    expect(v(A)).toMatchObject({
      maintenance_min: 120,
      measured_min: MARCH_MIN - 120,
      excluded_down_min: 120,
      down_min_total: 105,
      down_min: { isp: 45, regency: 60 },
      availability_pct: Math.round(10_000 * (1 - 105 / (MARCH_MIN - 120))) / 100,
      sla: { slo_pct: 99.5, charged_down_min: 45, met: true },
    });
    expect(v(A)?.sla.availability_pct).toBe(Math.round(10_000 * (1 - 45 / (MARCH_MIN - 120))) / 100);
    // B: 600 min of Sunday windows, 30 of its 360 down minutes inside one: 330 charged.
    expect(v(B)).toMatchObject({
      maintenance_min: 600,
      excluded_down_min: 30,
      down_min_total: 330,
      sla: { slo_pct: 99.5, charged_down_min: 330, met: false },
    });
    expect(v(B)?.sla.availability_pct).toBe(Math.round(10_000 * (1 - 330 / (MARCH_MIN - 600))) / 100);
    // C: Telkom's works were for Glagah only; its LAN fault is down time, not the ISP's.
    expect(v(C)).toMatchObject({
      maintenance_min: 0,
      down_min_total: 600,
      sla: { charged_down_min: 0, availability_pct: 100, met: true },
    });

    const isp = (name: string) => r.isp.find((g) => g.isp === name);
    expect(isp('Telkom')?.sla).toMatchObject({
      slo_pct: 99.5,
      charged_down_min: 45,
      met: true,
      breaches: [],
    });
    expect(isp('Telkom')?.maintenance_min).toBe(120);
    expect(isp('Lintas')?.sla).toMatchObject({
      slo_pct: 99.5,
      charged_down_min: 330,
      met: false,
      breaches: [B],
    });
    expect(r.total).toMatchObject({ maintenance_min: 720, excluded_down_min: 150, down_min_total: 1035 });

    const csv = availabilityCsv(r).split('\r\n');
    expect(
      csv[0]?.endsWith(
        ',maintenance_min,excluded_down_min,sla_charged_down_min,sla_availability_pct,slo_pct,slo_met',
      ),
    ).toBe(true);
    expect(
      csv.find((l) => l.startsWith(`village,Glagah,Lintas,${B}`))?.endsWith(',600,30,330,99.25,99.5,no'),
    ).toBe(true);
    expect(csv.find((l) => l.startsWith('isp,,Telkom'))?.endsWith(',99.5,yes')).toBe(true);
  });

  it('without maintenance or contracts the numbers are the plain availability, SLO unjudged', async () => {
    const bare = await availabilityReport(repo, registry, wibMonth('2024-03'), clock.wallMs());
    const b = bare.villages.find((x) => x.code === B);
    expect(b).toMatchObject({
      maintenance_min: 0,
      excluded_down_min: 0,
      down_min_total: 360,
      measured_min: MARCH_MIN,
    });
    expect(b?.sla).toMatchObject({ slo_pct: null, met: null });
  });

  it('the current month is measured up to now (fake clock), windows after now not counted', async () => {
    const mid = new FakeClock({ wall: Date.parse('2024-03-10T00:00:00Z') });
    const r = await availabilityReport(repo, registry, wibMonth('2024-03'), mid.wallMs(), config);
    // Up to the 10th 07:00 WIB: Lintas's Sundays of the 3rd and the 10th (02:00–04:00 WIB, already over).
    expect(r.villages.find((x) => x.code === B)?.maintenance_min).toBe(240);
    expect(r.villages.find((x) => x.code === A)?.maintenance_min).toBe(0);
    expect(r.minutes).toBe((Date.parse('2024-03-10T00:00:00Z') - wibMonth('2024-03').fromMs) / 60_000);
  });
});
