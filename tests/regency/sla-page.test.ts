import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/net.js';
import { launchChromium, screenshot } from '../web/browser.js';
import { RegencyFixture } from './fixture.js';
import type { RegencyDaemon, VillagePublisher } from './helpers.js';

const A = '3510170012';
const B = '3510170013';
const VILLAGES = ['code,name,kecamatan,isp', `${A},Kemiren,Glagah,Telkom`, `${B},Olehsari,Glagah,Lintas`];

/** The reports tab's SLA per ISP in Chromium, on screen and as printed (A4, no page chrome). */
describe('the SLA report in Chromium (sqlite)', () => {
  const f = new RegencyFixture({
    dialect: 'sqlite',
    prefix: 'kgw-regency-slapage-',
    villages: VILLAGES,
    name: 'Diskominfo Kabupaten Uji',
    login: { name: 'noc-lihat', role: 'viewer' },
    config: {
      sla: {
        contracts: [
          { isp: 'Telkom', slo_pct: 99.5 },
          { isp: 'Lintas', slo_pct: 99.5 },
        ],
      },
      maintenance: [
        {
          name: 'Pemeliharaan mingguan Lintas',
          isp: 'Lintas',
          weekly: { days: ['sun'], from: '02:00', to: '04:00' },
        },
      ],
    },
  });
  const pub: VillagePublisher = f.pub;
  let daemon: RegencyDaemon;
  let browser: Browser;

  beforeAll(async () => {
    await f.start();
    daemon = f.daemon;
    // Fixed past month (March 2024, WIB): Telkom 45 min down, Lintas 5 h (misses 99.5 %).
    const outage = (gw: string, start: string, end: string) =>
      pub.publish(
        pub.envelopeAt(
          gw,
          { start, end, duration_s: (Date.parse(end) - Date.parse(start)) / 1000, fault_layer: 'isp' },
          end,
        ),
        'outage',
      );
    await outage(A, '2024-03-10T03:00:00Z', '2024-03-10T03:45:00Z');
    await outage(B, '2024-03-05T01:00:00Z', '2024-03-05T06:00:00Z');
    await waitFor(async () => {
      const r = await daemon.http<{ villages: Array<{ outages: number }> }>(
        '/api/v1/reports/availability?month=2024-03',
      );
      return r.body.villages.filter((v) => v.outages > 0).length === 2;
    }, 15_000);
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await f.stop();
  });

  it('shows per ISP the SLO met or missed, the village below it and the maintenance excluded; prints clean', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page
      .context()
      .addCookies([
        { name: 'kgw_regency_session', value: daemon.cookie.split('=')[1] as string, url: daemon.origin },
      ]);
    await page.goto(`${daemon.origin}/#/laporan`);
    await page.waitForSelector('#month');
    await page.fill('#month', '2024-03');
    await page.dispatchEvent('#month', 'change');
    await waitFor(async () => ((await page.textContent('#sla-period')) ?? '').includes('2024-03'), 10_000);
    const rows = await page.$$eval('#sla table:first-of-type tbody tr', (trs) =>
      trs.map((tr) => tr.textContent ?? ''),
    );
    expect(rows.find((r) => r.startsWith('Telkom'))).toMatch(/99[.,]50 %.*99[.,]90 %.*tercapai/);
    expect(rows.find((r) => r.startsWith('Lintas'))).toMatch(/tidak tercapai/);
    const text = (await page.textContent('#sla')) ?? '';
    expect(text).toContain('Olehsari');
    expect(text).toContain('Pemeliharaan mingguan Lintas');
    expect(text).toContain('isp');
    await screenshot(page, 'regency-sla-1280');
    // The printed form: no tabs, no buttons, the regency's name on top.
    await page.emulateMedia({ media: 'print' });
    expect(await page.isVisible('nav.tabs')).toBe(false);
    expect(await page.isVisible('#print')).toBe(false);
    expect(await page.isVisible('#sla .print-only')).toBe(true);
    await screenshot(page, 'regency-sla-print');
    await page.emulateMedia({ media: 'screen' });
    await page.click('#lang');
    await waitFor(
      async () => ((await page.textContent('#sla')) ?? '').includes('Contract targets per ISP'),
      10_000,
    );
    await page.close();
  });
});
