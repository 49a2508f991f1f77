import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FleetIncident } from '../../src/regency/incidents/group.js';
import type { AvailabilityReport } from '../../src/regency/reports/availability.js';
import type { TruthSpan } from '../../src/sim/fleet/ground-truth.js';
import { REPO_ROOT } from '../helpers/daemon.js';
import { TestBroker } from '../helpers/mosquitto.js';
import { waitFor } from '../helpers/net.js';
import { tempDir } from '../helpers/tmp.js';
import { FleetSimProcess, type Summary } from '../sim/fleet-harness.js';
import { launchChromium, screenshot } from '../web/browser.js';
import { DIALECTS, RegencyDaemon, regencyCli, regencyConfig, TestStore } from './helpers.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const WIB = 7 * HOUR;
/** A simulated day in this many real seconds (86 400 s ÷ 4 320 = 20 s). */
const SPEED = 4320;
/** The bundled Banyuwangi list (the regency's official codes), as shipped in config/. */
const VILLAGES_CSV = join(REPO_ROOT, 'config', 'banyuwangi-villages.csv');

// The day replayed: the WIB day that ended a day before now (one WIB day lies in one WIB
// month, and everything the boxes stamp stays behind the regency's clock).
const ORIGIN = Math.floor((Date.now() + WIB) / DAY) * DAY - WIB - 2 * DAY;
const wibStamp = (ms: number) => new Date(ms + WIB).toISOString().slice(0, 16).replace('T', ' ');
const wibMonth = new Date(ORIGIN + WIB).toISOString().slice(0, 7);

// Two whole kecamatan of the Banyuwangi list; who serves whom is set here, not derived.
const KEC_ISP = 'PESANGGARAN';
const KEC_MAINT = 'SILIRAGUNG';
type Village = { code: string; name: string; kecamatan: string; isp: string };
function villages(): Village[] {
  const rows = readFileSync(VILLAGES_CSV, 'utf8').trim().split('\n').slice(1);
  const out: Village[] = [];
  for (const r of rows) {
    const [code, , kecamatan, name] = r.split(',') as [string, string, string, string];
    if (kecamatan !== KEC_ISP && kecamatan !== KEC_MAINT) continue;
    const n = out.filter((v) => v.kecamatan === kecamatan).length;
    out.push({ code, name, kecamatan, isp: kecamatan === KEC_ISP || n < 2 ? 'ISP-A' : 'ISP-B' });
  }
  return out;
}

// The day's script, in simulated time from WIB midnight.
const ISP_CUT = { at: 8 * HOUR + 17 * MIN, ms: 95 * MIN };
const REGENCY_DOWN = { at: 14 * HOUR + 3 * MIN, ms: 40 * MIN };
const MAINT = { from: 2 * HOUR, to: 4 * HOUR };
const PLANNED_CUT = { at: 2 * HOUR + 30 * MIN, ms: 61 * MIN };
const secs = (ms: number) => String(ms / 1000);

describe.each(DIALECTS)(
  'a simulated regency day on %s: incidents and SLA against ground truth',
  (dialect) => {
    const tmp = tempDir('kgw-regency-day-');
    const broker = new TestBroker();
    const store = new TestStore(dialect, tmp.path);
    const list = villages();
    const byCode = new Map(list.map((v) => [v.code, v]));
    const truthFile = join(tmp.path, 'truth.json');
    let daemon: RegencyDaemon;
    let summary: Summary;
    let truth: TruthSpan[];
    let groups: FleetIncident[];
    let villageIncidents: Array<{ code: string; layer: string }>;
    let report: AvailabilityReport;

    beforeAll(async () => {
      await broker.start();
      await store.create();
      const file = join(tmp.path, 'villages.csv');
      writeFileSync(
        file,
        `code,name,kecamatan,isp\n${list.map((v) => `${v.code},${v.name},${v.kecamatan},${v.isp}`).join('\n')}\n`,
      );
      daemon = new RegencyDaemon(
        join(tmp.path, 'regency'),
        regencyConfig(store, broker.url, {
          regency: { name: 'Kabupaten Uji', villages_file: file },
          sla: {
            contracts: [
              { isp: 'ISP-A', slo_pct: 99.5 },
              { isp: 'ISP-B', slo_pct: 99.5 },
            ],
          },
          maintenance: [
            {
              name: 'Pemeliharaan ISP-B Siliragung',
              isp: 'ISP-B',
              kecamatan: KEC_MAINT,
              start: wibStamp(ORIGIN + MAINT.from),
              end: wibStamp(ORIGIN + MAINT.to),
            },
          ],
        }),
      );
      await daemon.start();
      await daemon.login('noc-day', 'sandi-rahasia-uji', 'viewer');
      const sim = new FleetSimProcess([
        ...['--mqtt', broker.url, '--villages-file', file, '--speed', String(SPEED), '--duration', '20'],
        ...['--start', new Date(ORIGIN).toISOString(), '--truth', truthFile, '--seed', '21'],
        ...['--fault-rate', '0', '--usage-per-hour', '2', '--connect-delay', '5'],
        ...['--fault', `fiber:${secs(ISP_CUT.at)}:${secs(ISP_CUT.ms)}:${KEC_ISP}+ISP-A`],
        ...['--fault', `regency:${secs(REGENCY_DOWN.at)}:${secs(REGENCY_DOWN.ms)}`],
        ...['--fault', `fiber:${secs(PLANNED_CUT.at)}:${secs(PLANNED_CUT.ms)}:${KEC_MAINT}+ISP-B`],
      ]);
      try {
        // The regency's own side fails too: the collector is killed -9 about when the boxes lose
        // it (real time, so only roughly), and comes back; its session holds what arrived meanwhile.
        const started = performance.now();
        await waitFor(() => performance.now() - started >= REGENCY_DOWN.at / SPEED, 30_000, 20);
        await daemon.kill('SIGKILL');
        await daemon.start();
        summary = await sim.summary();
      } finally {
        sim.kill();
      }
      const status = async () => {
        const r = await regencyCli(['status', '--json', '--config', daemon.configPath]);
        return JSON.parse(r.out) as { messages: number; seq_gaps: number };
      };
      await waitFor(async () => (await status()).messages >= (summary.published.total ?? 0), 60_000, 300);
      truth = (JSON.parse(readFileSync(truthFile, 'utf8')) as { down: TruthSpan[] }).down;
      const from = new Date(ORIGIN).toISOString();
      const to = new Date(ORIGIN + DAY).toISOString();
      const inc = await daemon.http<{
        groups: FleetIncident[];
        incidents: Array<{ code: string; layer: string }>;
      }>(`/api/v1/incidents?from=${from}&to=${to}`);
      groups = inc.body.groups;
      villageIncidents = inc.body.incidents;
      report = (await daemon.http<AvailabilityReport>(`/api/v1/reports/availability?month=${wibMonth}`)).body;
    }, 120_000);

    afterAll(async () => {
      await daemon?.kill();
      await broker.dispose();
      await store.drop();
      tmp.cleanup();
    });

    /** The ground truth's spans for one cause, as village → [start, end] in ms. */
    const spans = (layer: string, codes?: readonly string[]) =>
      truth
        .filter((s) => s.why === 'link' && s.layer === layer && (!codes || codes.includes(s.code)))
        .map((s) => ({ code: s.code, start: Date.parse(s.start), end: Date.parse(s.end ?? '') }));

    it('the simulator did what the script says, and nothing else (ground truth)', () => {
      const ispA = list.filter((v) => v.kecamatan === KEC_ISP).map((v) => v.code);
      const ispB = list.filter((v) => v.kecamatan === KEC_MAINT && v.isp === 'ISP-B').map((v) => v.code);
      expect(truth).toHaveLength(ispA.length + ispB.length + list.length);
      expect(truth.every((s) => s.why === 'link' && s.end !== null)).toBe(true);
      const check = (layer: string, codes: string[], at: number, ms: number) => {
        const got = spans(layer).filter((s) => s.start === ORIGIN + at);
        expect(got.map((s) => s.code).sort()).toEqual([...codes].sort());
        expect(got.every((s) => s.end - s.start === ms)).toBe(true);
      };
      check('isp', ispA, ISP_CUT.at, ISP_CUT.ms);
      check('isp', ispB, PLANNED_CUT.at, PLANNED_CUT.ms);
      check(
        'regency',
        list.map((v) => v.code),
        REGENCY_DOWN.at,
        REGENCY_DOWN.ms,
      );
    });

    it('nothing accepted was lost across the collector kill: every envelope stored once, no open gap', async () => {
      const r = await regencyCli(['status', '--json', '--config', daemon.configPath]);
      const s = JSON.parse(r.out) as { messages: number; seq_gaps: number };
      expect(s).toMatchObject({ messages: summary.published.total, seq_gaps: 0 });
    });

    it('one incident per cause, with exactly the villages the simulator cut, timed to the second', () => {
      expect(groups.map((g) => `${g.cause}/${g.scope}`).sort()).toEqual([
        'isp/isp',
        'isp/isp',
        'regency/regency',
      ]);
      // One village incident per ground-truth span, each in its group.
      expect(villageIncidents).toHaveLength(truth.length);
      for (const g of groups) {
        const layer = g.cause;
        const mine = spans(layer).filter((s) => Math.abs(s.start - Date.parse(g.start)) < MIN);
        expect(g.villages.map((v) => v.code).sort()).toEqual(mine.map((s) => s.code).sort());
        expect(Date.parse(g.start)).toBe(Math.min(...mine.map((s) => s.start)));
        expect(Date.parse(g.end ?? '')).toBe(Math.max(...mine.map((s) => s.end)));
        for (const v of g.villages) {
          const t = mine.find((s) => s.code === v.code);
          expect([v.measured, Date.parse(v.start), Date.parse(v.end ?? '')]).toEqual([
            true,
            t?.start,
            t?.end,
          ]);
        }
      }
      const regency = groups.find((g) => g.cause === 'regency');
      expect(regency).toMatchObject({ isp: null, kecamatan: null, planned: [], charged_to_isp: false });
      expect(regency?.villages).toHaveLength(list.length);
      const cut = groups.find((g) => g.cause === 'isp' && g.kecamatan === KEC_ISP);
      expect(cut).toMatchObject({
        isp: 'ISP-A',
        planned: [],
        charged_to_isp: true,
        duration_s: ISP_CUT.ms / 1000,
      });
      const planned = groups.find((g) => g.cause === 'isp' && g.kecamatan === KEC_MAINT);
      expect(planned).toMatchObject({
        isp: 'ISP-B',
        planned: ['Pemeliharaan ISP-B Siliragung'],
        charged_to_isp: false,
      });
    });

    it('the SLA per village and per ISP charges only the ISP minutes outside maintenance, to the minute', () => {
      const minutes = (ms: number) => Math.round((ms / MIN) * 10) / 10;
      const maintMin = (MAINT.to - MAINT.from) / MIN;
      for (const v of report.villages.filter((x) => byCode.has(x.code))) {
        const info = byCode.get(v.code);
        const inWindow = info?.isp === 'ISP-B' && info.kecamatan === KEC_MAINT;
        const isp = spans('isp', [v.code]).reduce((n, s) => n + s.end - s.start, 0);
        const regency = spans('regency', [v.code]).reduce((n, s) => n + s.end - s.start, 0);
        expect(
          {
            isp: v.down_min.isp,
            regency: v.down_min.regency,
            total: v.down_min_total,
            charged: v.sla.charged_down_min,
            maintenance: v.maintenance_min,
            excluded: v.excluded_down_min,
            outages: v.outages,
          },
          v.code,
        ).toEqual({
          isp: inWindow ? 0 : minutes(isp),
          regency: minutes(regency),
          total: minutes((inWindow ? 0 : isp) + regency),
          charged: inWindow ? 0 : minutes(isp),
          maintenance: inWindow ? maintMin : 0,
          excluded: inWindow ? minutes(isp) : 0,
          outages: isp > 0 ? 2 : 1,
        });
      }
      const ispRow = (isp: string) => report.isp.find((r) => r.isp === isp);
      const ispAMs = spans(
        'isp',
        list.filter((v) => v.isp === 'ISP-A').map((v) => v.code),
      ).reduce((n, s) => n + s.end - s.start, 0);
      expect(ispRow('ISP-A')?.sla.charged_down_min).toBe(minutes(ispAMs));
      expect(ispRow('ISP-A')?.sla.charged_down_min).toBe((5 * ISP_CUT.ms) / MIN);
      expect(ispRow('ISP-B')?.sla.charged_down_min).toBe(0);
      expect(ispRow('ISP-B')?.excluded_down_min).toBe((3 * PLANNED_CUT.ms) / MIN);
      // The regency's own outage is in every village's minutes by layer, never in an ISP's SLA.
      expect(report.total.down_min.regency).toBe((list.length * REGENCY_DOWN.ms) / MIN);
      expect(report.maintenance).toEqual([
        expect.objectContaining({ name: 'Pemeliharaan ISP-B Siliragung', minutes: maintMin }),
      ]);
      console.log(
        `regency day (${dialect}): ${list.length} villages, ${summary.published.total} envelopes, ` +
          `${truth.length} down spans → ${groups.length} incidents; ISP-A charged ${ispRow('ISP-A')?.sla.charged_down_min} min, ` +
          `ISP-B charged ${ispRow('ISP-B')?.sla.charged_down_min} min (${ispRow('ISP-B')?.excluded_down_min} in maintenance), ` +
          `regency ${report.total.down_min.regency} min uncharged`,
      );
    });

    // The page once, on the embedded store: the day's three incidents on the incidents tab.
    it.runIf(dialect === 'sqlite')(
      'the incidents tab shows the day: one row per incident, who answers for it',
      async () => {
        const browser = await launchChromium();
        try {
          const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
          await page.context().addCookies([
            {
              name: 'kgw_regency_session',
              value: daemon.cookie.split('=')[1] as string,
              url: daemon.origin,
            },
          ]);
          await page.goto(`${daemon.origin}/#/insiden`);
          await page.waitForSelector('#inc-from');
          const day = new Date(ORIGIN + WIB).toISOString().slice(0, 10);
          for (const id of ['#inc-from', '#inc-to']) {
            await page.fill(id, day);
            await page.dispatchEvent(id, 'change');
          }
          await waitFor(async () => (await page.$$('#fleet-incidents tbody tr')).length === 3, 10_000);
          const rows = await page.$$eval('#fleet-incidents tbody tr', (trs) =>
            trs.map((tr) => tr.textContent ?? ''),
          );
          expect(rows.find((r) => r.includes('Seluruh desa'))).toMatch(
            /Server regensi.*10 —.*Tidak dibebankan/,
          );
          expect(rows.find((r) => r.includes(`ISP-A · ${KEC_ISP}`))).toMatch(
            /1 j 35 m.*5 —.*Dibebankan ke ISP-A/,
          );
          expect(rows.find((r) => r.includes(`ISP-B · ${KEC_MAINT}`))).toMatch(
            /3 —.*Terencana: Pemeliharaan ISP-B Siliragung/,
          );
          // The alerts card under the incidents: this regency has no webhook, and says so.
          expect(await page.textContent('#alerts-card')).toContain('Tidak ada webhook di konfigurasi');
          await screenshot(page, 'regency-incidents-1280');
          await page.click('#lang');
          await waitFor(
            async () => ((await page.textContent('#incidents-tab')) ?? '').includes('Charged to ISP-A'),
            10_000,
          );
          await page.setViewportSize({ width: 360, height: 780 });
          await screenshot(page, 'regency-incidents-360');
        } finally {
          await browser.close();
        }
      },
    );
  },
);
